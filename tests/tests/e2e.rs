//! End-to-end tests of the real app window: one binary, a module per journey.

mod journeys;
mod package;
mod release_build;
