mod binary;
mod dev_idp;
mod flow;
mod refusals;
mod store;
mod support;
