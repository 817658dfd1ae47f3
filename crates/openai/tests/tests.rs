//! The integration tests of `hypatia-openai`: one binary, one module per concern.

mod faults;
mod fixtures;
mod real_server;
mod secrets;
mod support;
