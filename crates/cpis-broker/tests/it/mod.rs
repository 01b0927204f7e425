mod binary;
// The development identity provider, started as cpis-client's and cpis-cli's tests start it.
#[path = "../../../cpis-client/tests/support/dev_idp.rs"]
mod dev_idp;
mod flow;
mod refusals;
mod store;
mod support;
