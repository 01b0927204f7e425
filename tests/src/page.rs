//! Reading, checking and photographing the window over WebDriver: waiting for elements, their
//! text, the window's size, what is on its first screen, axe-core at 1280 by 800 and at 200% zoom,
//! scrolling, screenshots and failure artifacts.

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

/// The first screen every journey is checked at: a common laptop's 1280 by 800 CSS pixels (the
/// app's own default window, 1100 by 820, is as wide in content and taller).
pub const FIRST_SCREEN: (u32, u32) = (1280, 800);

/// The viewport's size in CSS pixels, as the page sees it.
async fn viewport(client: &Client) -> Result<(u32, u32)> {
    let size = client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .context("reading the viewport size")?;
    let read = |index: usize| {
        size[index]
            .as_u64()
            .and_then(|value| u32::try_from(value).ok())
            .with_context(|| format!("the viewport size is not two numbers: {size}"))
    };
    Ok((read(0)?, read(1)?))
}

/// Size the window so that its viewport is `width` by `height` CSS pixels. WebDriver sizes the
/// outer window; under Xvfb without a window manager the two are the same, and any frame is
/// measured and added.
pub async fn set_viewport(client: &Client, (width, height): (u32, u32)) -> Result<()> {
    let (mut outer_width, mut outer_height) = (width, height);
    for _ in 0..4 {
        client
            .set_window_rect(0, 0, outer_width, outer_height)
            .await
            .with_context(|| format!("sizing the window to {outer_width} by {outer_height}"))?;
        // The resize reaches the page after GTK lays the window out again.
        let started = std::time::Instant::now();
        let mut seen = viewport(client).await?;
        while seen != (width, height) && started.elapsed() < std::time::Duration::from_secs(2) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            seen = viewport(client).await?;
        }
        if seen == (width, height) {
            return Ok(());
        }
        outer_width = (outer_width + width).saturating_sub(seen.0);
        outer_height = (outer_height + height).saturating_sub(seen.1);
    }
    bail!(
        "the viewport never became {width} by {height}: it is {:?}",
        viewport(client).await?
    )
}

/// What a 200% zoom of the first screen lays out: 640 CSS pixels wide, so the design system's
/// narrow-screen layout applies as it does when a clinician zooms in. (WebKitGTK's page zoom
/// halves the CSS viewport; the app offers no zoom to drive over WebDriver, and CSS `zoom` on the
/// page was measured not to do the same: media queries still see 1280 pixels and the page
/// overflows sideways. A zoomed 800-pixel window would be 400 high; the app's window is at least
/// 480, so that is the height used.)
pub const ZOOMED_200: (u32, u32) = (640, 480);

/// Check one screen of a journey where clinicians see it, in the real window: save its
/// screenshot (`name`, at the first screen, 1280 by 800, and `name` under `zoom-200/`), run
/// axe-core over it at both sizes, and fail naming each violation's rule and target. At 200% the
/// page must also reflow: nothing wider than the window (WCAG 1.4.10). The window is left at the
/// first screen, scrolled where it was.
pub async fn check_screen(client: &Client, name: &str) -> Result<()> {
    set_viewport(client, FIRST_SCREEN).await?;
    screenshot(client, name).await?;
    let scrolled = client
        .execute("return [window.scrollX, window.scrollY];", vec![])
        .await
        .context("reading the scroll position")?;
    let mut problems: Vec<String> = axe_violations(client)
        .await?
        .into_iter()
        .map(|violation| format!("at 1280 by 800: {violation}"))
        .collect();
    set_viewport(client, ZOOMED_200).await?;
    screenshot(client, &format!("zoom-200/{name}")).await?;
    problems.extend(
        axe_violations(client)
            .await?
            .into_iter()
            .map(|violation| format!("at 200% zoom: {violation}")),
    );
    let widths = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .context("measuring the page's width")?;
    if widths[0].as_u64() > widths[1].as_u64() {
        problems.push(format!(
            "at 200% zoom: reflow: the page is {} pixels wide in a {} pixel window, so it scrolls sideways",
            widths[0], widths[1]
        ));
    }
    set_viewport(client, FIRST_SCREEN).await?;
    client
        .execute(
            "window.scrollTo(arguments[0], arguments[1]);",
            vec![scrolled[0].clone(), scrolled[1].clone()],
        )
        .await
        .context("scrolling back")?;
    if !problems.is_empty() {
        bail!(
            "accessibility in the real window on {name}:\n{}",
            problems.join("\n")
        );
    }
    Ok(())
}

/// Every element matching `css` lies wholly on the window's first screen as it is now: the page
/// not scrolled, each box inside the viewport and above the sticky status bar. Returns how many
/// there are; fails naming each one that is not, with its text and box.
pub async fn assert_on_first_screen(client: &Client, css: &str) -> Result<usize> {
    let seen = client
        .execute(
            r#"const bar = document.querySelector("[data-testid='status-bar']");
const bottom = bar === null ? window.innerHeight : Math.min(window.innerHeight, bar.getBoundingClientRect().top);
return {
  scrolled: window.scrollY,
  bottom,
  right: window.innerWidth,
  boxes: [...document.querySelectorAll(arguments[0])].map((element) => {
    const box = element.getBoundingClientRect();
    return { text: element.textContent, top: box.top, bottom: box.bottom, left: box.left, right: box.right };
  }),
};"#,
            vec![serde_json::Value::String(css.to_string())],
        )
        .await
        .with_context(|| format!("measuring {css}"))?;
    if seen["scrolled"].as_f64() != Some(0.0) {
        bail!(
            "the page is scrolled ({}): not the first screen",
            seen["scrolled"]
        );
    }
    let boxes = seen["boxes"]
        .as_array()
        .with_context(|| format!("no boxes for {css}: {seen}"))?;
    let bottom = seen["bottom"].as_f64().unwrap_or(0.0);
    let right = seen["right"].as_f64().unwrap_or(0.0);
    let outside: Vec<String> = boxes
        .iter()
        .filter(|found| {
            let edge = |key: &str| found[key].as_f64().unwrap_or(f64::NAN);
            !(edge("top") >= 0.0
                && edge("left") >= 0.0
                && edge("bottom") <= bottom
                && edge("right") <= right)
        })
        .map(|found| {
            format!(
                "{:?} at top {}, bottom {}, left {}, right {}",
                found["text"].as_str().unwrap_or(""),
                found["top"],
                found["bottom"],
                found["left"],
                found["right"]
            )
        })
        .collect();
    if !outside.is_empty() {
        bail!(
            "{css}: not on the first screen (which ends at {bottom}, above the status bar, and {right} across):\n{}",
            outside.join("\n")
        );
    }
    Ok(boxes.len())
}

/// Save a screenshot of the current state under `target/e2e-artifacts/screens/`.
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let path = workspace_root()
        .join("target/e2e-artifacts/screens")
        .join(format!("{name}.png"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let png = client.screenshot().await?;
    std::fs::write(&path, png)?;
    Ok(())
}
