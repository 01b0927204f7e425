//! Fuzz target: any text as a typed or scanned NHS number. `NhsNumber::parse` never panics; a
//! number it accepts is exactly the ten digits of the input (spaces and dashes dropped), passes
//! Modulus 11, and comes back unchanged from its wire form and its spaced display form.

#![no_main]

use cpis_domain::{NhsNumber, NhsNumberError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match NhsNumber::parse(text) {
        Ok(number) => {
            let wire = number.as_str();
            assert_eq!(wire.len(), 10);
            assert!(wire.bytes().all(|byte| byte.is_ascii_digit()));
            let typed_digits: String = text.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(wire, typed_digits, "accepted digits are the typed digits");
            assert!(
                text.trim()
                    .chars()
                    .all(|character| character.is_ascii_digit() || matches!(character, ' ' | '-')),
                "only digits, spaces and dashes inside the number"
            );
            let digits: Vec<u8> = wire.bytes().map(|byte| byte - b'0').collect();
            let mut first_nine = [0u8; 9];
            first_nine.copy_from_slice(&digits[..9]);
            // Modulus 11, written out again here independently of the domain crate.
            let sum: u32 = digits[..9]
                .iter()
                .zip((2..=10u32).rev())
                .map(|(digit, weight)| u32::from(*digit) * weight)
                .sum();
            let check = (11 - sum % 11) % 11;
            assert_ne!(check, 10);
            assert_eq!(check, u32::from(digits[9]));
            assert_eq!(
                NhsNumber::from_first_nine(first_nine).as_ref(),
                Some(&number)
            );
            assert_eq!(NhsNumber::parse(wire).as_ref(), Ok(&number));
            let spaced = number.to_string();
            assert_eq!(spaced.len(), 12);
            assert_eq!(NhsNumber::parse(&spaced).as_ref(), Ok(&number));
            // Debug is redacted: it never shows the digits.
            assert!(!format!("{number:?}").contains(wire));
        }
        Err(error) => {
            // The message is a fixed sentence that never repeats the input.
            let message = error.to_string();
            assert!(!message.is_empty());
            assert!(!error.code().is_empty());
            if let NhsNumberError::WrongLength { digits } = error {
                assert_ne!(digits, 10);
                assert_eq!(digits, text.chars().filter(char::is_ascii_digit).count());
            }
        }
    }
});
