//! The one integration-test binary: the `hypatia` CLI end to end, and the
//! library crates against real SQLite and tantivy.

mod support;

mod answer;
mod architecture;
mod claims;
mod cli;
mod consistency;
mod embeddings;
mod formats;
mod models;
mod pdf;
mod real_model;
mod review;
mod review_faults;
mod shared_data;
mod sources;
mod tui;
mod zotero;
