//! A release build with no configuration contacts nothing (issue 12): filled in by the
//! configuration work.
