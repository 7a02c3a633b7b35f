//! What generated code calls. Not public API: names here change with the macro.

pub use crate::declared::{FieldDescriptor, FieldKind, GrantDescriptor, ResponseKind};
pub use crate::request::{AdditionalForm, Endpoint, FormField, GrantRequest, HeaderField, json_body};
pub use crate::transport::{send, send_empty, send_token};
