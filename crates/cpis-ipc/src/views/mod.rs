//! What the UI is shown: sessions, lookup results, the follow-up, status, the review and
//! settings, as small display-ready views built from domain types, one module each. Dates and
//! times are already formatted in the NHS style, so the UI never formats patient data itself.

mod la_contact;
mod lookup;
mod phone;
mod review;
mod session;
mod settings;
mod status;

pub use la_contact::*;
pub use lookup::*;
pub use phone::*;
pub use review::*;
pub use session::*;
pub use settings::*;
pub use status::*;
