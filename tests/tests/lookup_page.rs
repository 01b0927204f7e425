//! The lookup page in the real window: invalid then valid NHS numbers, typed as a user would.

use anyhow::Result;
use cpis_e2e::{Driver, WAIT, text_of};
use fantoccini::{Locator, key::Key};

#[tokio::test(flavor = "multi_thread")]
async fn invalid_then_valid_nhs_number_shows_the_right_messages() -> Result<()> {
    let driver = Driver::start()?;
    let client = driver.open_app().await?;
    let result = journey(&client).await;
    if result.is_err() {
        cpis_e2e::save_artifacts(&client, "lookup_page").await;
    }
    let closed = client.close().await;
    result?;
    closed?;
    Ok(())
}

async fn journey(client: &fantoccini::Client) -> Result<()> {
    let field = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("nhs-number"))
        .await?;

    // The field has focus when the app opens: type straight away, as a scanner would.
    let active = client.active_element().await?;
    assert_eq!(active.attr("id").await?.as_deref(), Some("nhs-number"));

    // Invalid check digit: the NHS error pattern, summary and inline message.
    field.send_keys("999 999 9991").await?;
    field
        .send_keys(&String::from(char::from(Key::Enter)))
        .await?;
    let summary = text_of(client, ".nhsuk-error-summary").await?;
    assert!(summary.contains("There is a problem"), "{summary}");
    assert!(summary.contains("Enter a valid NHS number"), "{summary}");
    let inline = text_of(client, ".nhsuk-error-message").await?;
    assert!(inline.contains("Enter a valid NHS number"), "{inline}");

    // Letters: a different, specific message.
    field.clear().await?;
    field.send_keys("99900A0018").await?;
    field
        .send_keys(&String::from(char::from(Key::Enter)))
        .await?;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//*[contains(@class,'nhsuk-error-message')][contains(., 'only numbers, spaces or dashes')]",
        ))
        .await?;

    // A valid number with dashes: the error goes and the formatted number is confirmed.
    field.clear().await?;
    field.send_keys("999-000-0018").await?;
    field
        .send_keys(&String::from(char::from(Key::Enter)))
        .await?;
    let valid = text_of(client, "[data-testid='nhs-number-valid']").await?;
    assert!(valid.contains("999 000 0018"), "{valid}");
    assert!(
        client
            .find_all(Locator::Css(".nhsuk-error-summary"))
            .await?
            .is_empty(),
        "the error summary should be gone"
    );
    Ok(())
}
