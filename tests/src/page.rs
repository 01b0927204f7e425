//! Reading, checking and photographing the window over WebDriver: waiting for elements, their
//! text, axe-core, scrolling, screenshots and failure artifacts.

use anyhow::{Context, Result, bail};
use fantoccini::{Client, Locator};

use crate::{WAIT, workspace_root};

/// Wait (up to [`WAIT`]) for an element to be present.
pub async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// Wait for an element to be present and return its visible text.
pub async fn text_of(client: &Client, css: &str) -> Result<String> {
    Ok(wait_for(client, css).await?.text().await?)
}

/// Save a screenshot and the page source under `target/e2e-artifacts/` to explain a failure.
/// Only synthetic data is ever on screen in these tests.
pub async fn save_artifacts(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-artifacts");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
    if let Ok(source) = client.source().await {
        let _ = std::fs::write(dir.join(format!("{name}.html")), source);
    }
    eprintln!("saved failure artifacts in {}", dir.display());
}

/// Run axe-core (the UI's own copy, `ui/node_modules/axe-core/axe.min.js`, injected over
/// WebDriver the first time) over the whole window, colour contrast included, and return one
/// line per violation: the rule, its impact and the elements' selectors. Never the elements'
/// HTML, which could hold (synthetic) patient data.
pub async fn axe_violations(client: &Client) -> Result<Vec<String>> {
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .context("asking whether axe-core is loaded")?;
    if loaded != serde_json::Value::Bool(true) {
        let path = workspace_root().join("ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (run `npm ci` in ui/)", path.display()))?;
        // The script sets `window.axe` when it sees a window.
        client
            .execute(
                &format!("{source}\nreturn typeof window.axe === 'object';"),
                vec![],
            )
            .await
            .context("injecting axe-core")?;
    }
    let answer = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
window.axe
  .run(document)
  .then((results) => done({
    rules_passed: results.passes.length,
    violations: results.violations.map((violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} at ` +
      violation.nodes.map((node) => JSON.stringify(node.target)).join(', ')),
  }))
  .catch((error) => done({ error: String(error) }));"#,
            vec![],
        )
        .await
        .context("running axe-core")?;
    if let Some(error) = answer["error"].as_str() {
        bail!("axe-core failed: {error}");
    }
    // A run that checked nothing would pass silently: make sure it really ran.
    if answer["rules_passed"].as_u64().unwrap_or(0) == 0 {
        bail!("axe-core ran no rules: {answer}");
    }
    let lines = answer["violations"]
        .as_array()
        .context("axe-core answered without a list of violations")?
        .iter()
        .map(|line| {
            line.as_str()
                .unwrap_or("an unreadable violation")
                .to_string()
        })
        .collect();
    Ok(lines)
}

/// Scroll the element at `css` to the top of the window (below it, the sticky status bar
/// covers the last lines), so that a screenshot shows it.
pub async fn scroll_to(client: &Client, css: &str) -> Result<()> {
    let element = wait_for(client, css).await?;
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'start' });",
            vec![serde_json::to_value(&element)?],
        )
        .await
        .with_context(|| format!("scrolling to {css}"))?;
    Ok(())
}

/// Save a screenshot of the current state under `target/e2e-artifacts/screens/`.
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let dir = workspace_root().join("target/e2e-artifacts/screens");
    std::fs::create_dir_all(&dir)?;
    let png = client.screenshot().await?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}
