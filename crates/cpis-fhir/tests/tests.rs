//! The one integration-test binary of cpis-fhir: round trips, strictness, shared fixtures and
//! properties over arbitrary input.

mod it;
