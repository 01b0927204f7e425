//! cpis-broker's integration tests, one binary: the real development identity provider
//! (`node dev-idp/server.js --test-hooks` under cpis-supervisor), the real reference platform
//! (cpis-service in-process) and the broker in-process, with an HTTP client as the browser.

mod it;
