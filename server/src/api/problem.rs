//! Errors in the official server's shape: RFC 9457 problem JSON as huma writes it,
//! `{"title", "status", "detail", "errors": [{"message", "location"?, "value"?}]}` with
//! `Content-Type: application/problem+json`; empty fields omitted.

use crate::store::{Rejection, StoreError};
use crate::validation::FieldError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorDetail {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

impl From<FieldError> for ErrorDetail {
    fn from(e: FieldError) -> Self {
        ErrorDetail {
            message: e.message,
            location: Some(e.location),
            value: e.value,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
    /// Extra headers (e.g. `Retry-After`); not part of the body.
    #[serde(skip)]
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: impl IntoIterator<Item = ErrorDetail>) -> Self {
        self.errors.extend(errors);
        self
    }

    /// One error whose cause is only a message (huma's wrapped handler errors).
    pub fn with_cause(self, message: impl Into<String>) -> Self {
        self.with_errors([ErrorDetail {
            message: message.into(),
            location: None,
            value: None,
        }])
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 422 `validation failed`, as huma answers when a request fails its declared constraints.
    pub fn validation(errors: impl IntoIterator<Item = ErrorDetail>) -> Self {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation failed").with_errors(errors)
    }

    pub fn field(
        location: &str,
        message: impl Into<String>,
        value: Option<serde_json::Value>,
    ) -> ErrorDetail {
        ErrorDetail {
            message: message.into(),
            location: Some(location.to_owned()),
            value,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A storage failure: logged with its cause, answered without it (the official list endpoint hides
    /// 500 causes too). Unreachable storage is 503 so clients and load balancers retry elsewhere.
    pub fn from_store(e: StoreError, context: &str) -> Self {
        match e {
            StoreError::NotFound(m) => Problem::not_found(m),
            StoreError::Rejected(why) if why.is_status_rule() => {
                Problem::bad_request(why.to_string())
            }
            // A name owned by a sync source: the request is valid, the registry's state refuses it.
            StoreError::Rejected(why @ Rejection::OwnedBySource { .. }) => {
                Problem::new(StatusCode::CONFLICT, why.to_string())
            }
            StoreError::Rejected(why) => Problem::bad_request(context).with_cause(why.to_string()),
            StoreError::Abandoned => {
                tracing::info!("{context}: the request ended first; the write was not committed");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{context}: request abandoned"),
                )
            }
            StoreError::Fatal(cause) => {
                tracing::error!(error = %cause, "{context}: storage error");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, context.to_owned())
            }
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "{context}: storage error");
                // Retry-After: the store is retried on every request, so a short wait is enough.
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{context}: storage unavailable"),
                )
                .with_header(header::RETRY_AFTER, HeaderValue::from_static("2"))
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, Problem>;
