//! Handback's C ABI: one JSON request in, one JSON response out.
//!
//! Every request the library's request layer answers (`handback::request`, documented in
//! `docs/embedding.md`) can be sent from C, Python (`ctypes`), Java, Go or any language with a C
//! foreign-function interface:
//!
//! ```c
//! char *response = handback_request("{\"op\": \"version\"}");
//! puts(response);
//! handback_free(response);
//! ```
//!
//! The boundary is built so that nothing the caller passes can crash the process: a null
//! pointer or bytes that are not UTF-8 get an error response, and a panic inside the engine
//! (a bug) is caught and answered as an internal error instead of unwinding into C.

#![allow(unsafe_code)]

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The engine and API versions, as a static NUL-terminated string
/// (`handback 0.1.0; api 1`). Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn handback_version() -> *const c_char {
    static VERSION: &str = concat!("handback ", env!("CARGO_PKG_VERSION"), "; api 1\0");
    VERSION.as_ptr().cast()
}

/// Answers one JSON request (a NUL-terminated UTF-8 string) with one JSON response, allocated
/// by Handback: pass it to [`handback_free`] when done. Never returns null.
///
/// # Safety
///
/// `request` must be null or point to a NUL-terminated string that stays valid and unchanged
/// for the duration of the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn handback_request(request: *const c_char) -> *mut c_char {
    let answer = if request.is_null() {
        refuse("the request is a null pointer; pass a NUL-terminated UTF-8 JSON string")
    } else {
        // SAFETY: the caller promises a valid NUL-terminated string (see the function's docs).
        let bytes = unsafe { CStr::from_ptr(request) }.to_bytes();
        match std::str::from_utf8(bytes) {
            Ok(text) => catch_unwind(AssertUnwindSafe(|| {
                handback::request::handle_line(text, handback::Limits::default())
            }))
            .unwrap_or_else(|_| internal("the engine failed while answering (a bug; please report it)")),
            Err(e) => refuse(&format!(
                "the request is not UTF-8 (byte {})",
                e.valid_up_to() + 1
            )),
        }
    };
    to_c(answer)
}

/// Frees a response returned by [`handback_request`]. Null is accepted and ignored.
///
/// # Safety
///
/// `response` must be null or a pointer returned by [`handback_request`] and not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn handback_free(response: *mut c_char) {
    if !response.is_null() {
        // SAFETY: the pointer came from `CString::into_raw` in `to_c` and is freed once.
        drop(unsafe { CString::from_raw(response) });
    }
}

fn to_c(answer: String) -> *mut c_char {
    // JSON text escapes NUL inside strings, so a response never holds one; should it ever, the
    // caller still gets an answer rather than a null pointer.
    CString::new(answer)
        .unwrap_or_else(|_| CString::from(c"{\"api_version\":1,\"ok\":false,\"error\":{\"kind\":\"internal\",\"message\":\"the response held a NUL byte\"}}"))
        .into_raw()
}

fn refuse(message: &str) -> String {
    error_json("malformed", message)
}

fn internal(message: &str) -> String {
    error_json("internal", message)
}

fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({
        "api_version": handback::request::API_VERSION,
        "ok": false,
        "error": { "kind": kind, "message": message },
    })
    .to_string()
}
