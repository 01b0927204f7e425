//! What the `.deb` installs (issue 12): filled in by the packaging work.
