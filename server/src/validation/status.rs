//! Status changes (`PATCH /servers/{n}/versions/{v}/status` and `PATCH /servers/{n}/status`),
//! the pure parts of `internal/api/handlers/v0/status.go`.
//!
//! Body shape (`status` required and in [`super::STATUSES`], `statusMessage` ≤ 500 characters) is
//! checked by [`super::check_status_body`] (huma, 422). The rules below answer 400.

/// `validateStatusTransition` for one version. `new_message` is `None` when the body has no
/// `statusMessage` (or `null`); `Some("")` is a message. Any status may move to any other; only a
/// message sent with `active`, or a request that changes neither status nor message, is refused.
/// `Err` is the official 400 detail.
pub fn check_status_transition(
    current_status: &str,
    current_message: Option<&str>,
    new_status: &str,
    new_message: Option<&str>,
) -> Result<(), String> {
    if !super::STATUSES.contains(&new_status) {
        return Err(format!(
            "Invalid status: {new_status}. Must be one of: active, deprecated, deleted"
        ));
    }
    if new_status == "active" && new_message.is_some() {
        return Err("status_message cannot be provided when setting status to active".to_string());
    }
    if current_status != new_status || current_message != new_message {
        return Ok(());
    }
    Err(
        "No changes to apply: status and message are already set to the provided values"
            .to_string(),
    )
}

/// `validateBulkStatusTransition`: accepted when at least one version (given as
/// `(status, message)`) would change, or when there are no versions at all. Note that, as
/// officially, a message sent with `active` ends up here as "No changes to apply".
pub fn check_bulk_status_transition(
    versions: &[(&str, Option<&str>)],
    new_status: &str,
    new_message: Option<&str>,
) -> Result<(), String> {
    if versions.is_empty()
        || versions
            .iter()
            .any(|(s, m)| check_status_transition(s, *m, new_status, new_message).is_ok())
    {
        return Ok(());
    }
    Err(
        "No changes to apply: all versions already have the requested status and message"
            .to_string(),
    )
}

/// The message stored after an accepted change: cleared when moving to `active`
/// (`buildStatusChangeRequestFromBody`), otherwise exactly what was sent (`None` clears it too).
pub fn stored_status_message(new_status: &str, new_message: Option<&str>) -> Option<String> {
    if new_status == "active" {
        None
    } else {
        new_message.map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_CHANGE: &str =
        "No changes to apply: status and message are already set to the provided values";

    #[test]
    fn any_status_can_move_to_any_other() {
        for from in super::super::STATUSES {
            for to in super::super::STATUSES {
                if from != to {
                    assert!(
                        check_status_transition(from, None, to, None).is_ok(),
                        "{from}->{to}"
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_status_is_refused() {
        assert_eq!(
            check_status_transition("active", None, "archived", None).unwrap_err(),
            "Invalid status: archived. Must be one of: active, deprecated, deleted"
        );
    }

    #[test]
    fn message_with_active_is_refused() {
        assert_eq!(
            check_status_transition("deprecated", Some("old"), "active", Some("back")).unwrap_err(),
            "status_message cannot be provided when setting status to active"
        );
        // Even an empty message counts as provided.
        assert!(check_status_transition("deleted", None, "active", Some("")).is_err());
        assert!(check_status_transition("deleted", None, "active", None).is_ok());
    }

    #[test]
    fn no_op_is_refused() {
        assert_eq!(
            check_status_transition("active", None, "active", None).unwrap_err(),
            NO_CHANGE
        );
        assert_eq!(
            check_status_transition("deprecated", Some("use 2.x"), "deprecated", Some("use 2.x"))
                .unwrap_err(),
            NO_CHANGE
        );
        // A message change alone is a change, including adding or removing it.
        assert!(check_status_transition("deprecated", Some("a"), "deprecated", Some("b")).is_ok());
        assert!(check_status_transition("deprecated", None, "deprecated", Some("b")).is_ok());
        assert!(check_status_transition("deprecated", Some("a"), "deprecated", None).is_ok());
        assert!(check_status_transition("deprecated", Some(""), "deprecated", None).is_ok());
    }

    #[test]
    fn bulk() {
        let all_deprecated = [("deprecated", Some("x")), ("deprecated", Some("x"))];
        assert_eq!(
            check_bulk_status_transition(&all_deprecated, "deprecated", Some("x")).unwrap_err(),
            "No changes to apply: all versions already have the requested status and message"
        );
        let mixed = [("deprecated", Some("x")), ("active", None)];
        assert!(check_bulk_status_transition(&mixed, "deprecated", Some("x")).is_ok());
        assert!(check_bulk_status_transition(&[], "active", None).is_ok());
        // Official quirk: active + message in bulk is reported as "no changes".
        assert_eq!(
            check_bulk_status_transition(&mixed, "active", Some("m")).unwrap_err(),
            "No changes to apply: all versions already have the requested status and message"
        );
    }

    #[test]
    fn stored_message() {
        assert_eq!(stored_status_message("active", None), None);
        assert_eq!(
            stored_status_message("deprecated", Some("use 2.x")),
            Some("use 2.x".to_string())
        );
        assert_eq!(stored_status_message("deleted", None), None);
    }
}
