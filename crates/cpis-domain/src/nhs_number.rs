//! The NHS number: parsed from user input, validated by Modulus 11, displayed as `943 476 5919`.

use std::fmt;

use crate::REDACTED;

/// A valid NHS number: ten ASCII digits whose last digit is the Modulus 11 check digit.
///
/// It can only be made by [`NhsNumber::parse`], so holding one means the check passed.
/// `Debug` is redacted; `Display` gives the spaced form for the screen.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber {
    digits: String,
}

/// Why a piece of text is not a valid NHS number. Messages never repeat the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    /// Nothing but spaces or dashes was given.
    #[error("Enter an NHS number")]
    Empty,
    /// A character other than a digit, space or dash was given.
    #[error("NHS number must contain only numbers, spaces or dashes")]
    InvalidCharacters,
    /// The number of digits is not ten.
    #[error("NHS number must be 10 digits")]
    WrongLength {
        /// How many digits were given.
        digits: usize,
    },
    /// The digits do not pass the Modulus 11 check.
    #[error("Enter a valid NHS number. The number you entered is not a real NHS number")]
    CheckDigit,
}

impl NhsNumberError {
    /// A stable machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            NhsNumberError::Empty => "empty",
            NhsNumberError::InvalidCharacters => "invalid_characters",
            NhsNumberError::WrongLength { .. } => "wrong_length",
            NhsNumberError::CheckDigit => "check_digit",
        }
    }
}

/// The Modulus 11 check digit of nine digits (each 0..=9), or `None` when the result is 10,
/// which makes every number with those nine digits invalid.
pub fn modulus_11_check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(digit, weight)| u32::from(*digit) * weight)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        check => u8::try_from(check).ok(),
    }
}

impl NhsNumber {
    /// Parse user input: ten digits, optionally separated by spaces or dashes.
    pub fn parse(input: &str) -> Result<NhsNumber, NhsNumberError> {
        let mut digits = String::with_capacity(10);
        for character in input.trim().chars() {
            match character {
                '0'..='9' => digits.push(character),
                ' ' | '-' => {}
                _ => return Err(NhsNumberError::InvalidCharacters),
            }
        }
        if digits.is_empty() {
            return Err(NhsNumberError::Empty);
        }
        if digits.len() != 10 {
            return Err(NhsNumberError::WrongLength {
                digits: digits.len(),
            });
        }
        let bytes = digits.as_bytes();
        let mut first_nine = [0u8; 9];
        for (slot, byte) in first_nine.iter_mut().zip(bytes) {
            *slot = byte - b'0';
        }
        let given_check = bytes[9] - b'0';
        match modulus_11_check_digit(&first_nine) {
            Some(check) if check == given_check => Ok(NhsNumber { digits }),
            _ => Err(NhsNumberError::CheckDigit),
        }
    }

    /// Build the valid NHS number that starts with these nine digits, if there is one.
    /// Used to generate synthetic numbers; `None` when the check digit would be 10.
    pub fn from_first_nine(first_nine: [u8; 9]) -> Option<NhsNumber> {
        if first_nine.iter().any(|digit| *digit > 9) {
            return None;
        }
        let check = modulus_11_check_digit(&first_nine)?;
        let digits = first_nine
            .iter()
            .chain(std::iter::once(&check))
            .map(|digit| char::from(b'0' + digit))
            .collect();
        Some(NhsNumber { digits })
    }

    /// The ten digits with no separators, as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// Whether this is in the synthetic `999` range used for test data.
    pub fn is_synthetic(&self) -> bool {
        self.digits.starts_with("999")
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = &self.digits;
        write!(
            formatter,
            "{} {} {}",
            &digits[0..3],
            &digits[3..6],
            &digits[6..10]
        )
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "NhsNumber({REDACTED})")
    }
}

impl std::str::FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        NhsNumber::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_valid_numbers_with_spaces_or_dashes() {
        for input in ["9990000026", "999 000 0026", "999-000-0026", " 9990000026 "] {
            let nhs_number = NhsNumber::parse(input).expect("valid");
            assert_eq!(nhs_number.as_str(), "9990000026");
            assert_eq!(nhs_number.to_string(), "999 000 0026");
        }
        assert!(NhsNumber::parse("9990000018").is_ok());
        assert!(NhsNumber::parse("9990000026").is_ok());
    }

    #[test]
    fn remainder_eleven_gives_check_digit_zero() {
        // 9876543210: weighted sum 9*10+8*9+7*8+6*7+5*6+4*5+3*4+2*3+1*2 = 330, 330 mod 11 = 0.
        assert_eq!(
            modulus_11_check_digit(&[9, 8, 7, 6, 5, 4, 3, 2, 1]),
            Some(0)
        );
        assert!(NhsNumber::parse("9876543210").is_ok());
    }

    #[test]
    fn check_result_ten_makes_every_number_invalid() {
        assert_eq!(modulus_11_check_digit(&[9, 9, 9, 0, 0, 0, 0, 0, 0]), None);
        for last in 0..=9 {
            let input = format!("999000000{last}");
            assert_eq!(NhsNumber::parse(&input), Err(NhsNumberError::CheckDigit));
        }
    }

    #[test]
    fn plausible_but_invalid_numbers_are_rejected() {
        assert_eq!(
            NhsNumber::parse("9999999991"),
            Err(NhsNumberError::CheckDigit)
        );
        assert_eq!(
            NhsNumber::parse("9876544321"),
            Err(NhsNumberError::CheckDigit)
        );
    }

    #[test]
    fn says_why_a_number_is_rejected() {
        assert_eq!(NhsNumber::parse(""), Err(NhsNumberError::Empty));
        assert_eq!(NhsNumber::parse(" - "), Err(NhsNumberError::Empty));
        assert_eq!(
            NhsNumber::parse("999000002"),
            Err(NhsNumberError::WrongLength { digits: 9 })
        );
        assert_eq!(
            NhsNumber::parse("99900000260"),
            Err(NhsNumberError::WrongLength { digits: 11 })
        );
        assert_eq!(
            NhsNumber::parse("999000002A"),
            Err(NhsNumberError::InvalidCharacters)
        );
        assert_eq!(
            NhsNumber::parse("999.000.0026"),
            Err(NhsNumberError::InvalidCharacters)
        );
        assert_eq!(
            NhsNumber::parse("９９９００００２６"),
            Err(NhsNumberError::InvalidCharacters)
        );
    }

    #[test]
    fn debug_is_redacted_and_errors_do_not_echo_input() {
        let nhs_number = NhsNumber::parse("9990000018").expect("valid");
        let debug = format!("{nhs_number:?}");
        assert!(!debug.contains("999"), "{debug}");
        let error = NhsNumber::parse("9990000019").expect_err("invalid");
        assert!(!error.to_string().contains("999"));
    }

    #[test]
    fn from_first_nine_builds_valid_numbers() {
        let nhs_number = NhsNumber::from_first_nine([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid");
        assert_eq!(nhs_number.as_str(), "9990000018");
        assert!(nhs_number.is_synthetic());
        assert!(NhsNumber::from_first_nine([9, 9, 9, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(NhsNumber::from_first_nine([10, 9, 9, 0, 0, 0, 0, 0, 0]).is_none());
    }

    fn reference_is_valid(digits: &[u8; 10]) -> bool {
        let sum: u32 = (0..9).map(|i| u32::from(digits[i]) * (10 - i as u32)).sum();
        let check = 11 - sum % 11;
        let check = if check == 11 { 0 } else { check };
        check != 10 && check == u32::from(digits[9])
    }

    proptest! {
        #[test]
        fn parse_agrees_with_reference_modulus_11(digits in proptest::array::uniform10(0u8..10)) {
            let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert_eq!(NhsNumber::parse(&text).is_ok(), reference_is_valid(&digits));
        }

        #[test]
        fn separators_do_not_change_the_result(digits in proptest::array::uniform10(0u8..10), separator in "[ -]{0,2}") {
            let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let spaced = format!("{}{separator}{}{separator}{}", &plain[0..3], &plain[3..6], &plain[6..10]);
            prop_assert_eq!(NhsNumber::parse(&plain), NhsNumber::parse(&spaced));
        }

        #[test]
        fn valid_numbers_round_trip_through_display(first_nine in proptest::array::uniform9(0u8..10)) {
            if let Some(nhs_number) = NhsNumber::from_first_nine(first_nine) {
                let reparsed = NhsNumber::parse(&nhs_number.to_string());
                prop_assert_eq!(reparsed, Ok(nhs_number));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_text(input in "\\PC{0,40}") {
            let _ = NhsNumber::parse(&input);
        }
    }
}
