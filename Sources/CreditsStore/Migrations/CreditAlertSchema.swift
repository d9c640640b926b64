/// Version 16: when a web session was shown the pop-up about the organisation's credits (out of,
/// low on, or not yet bought), so staff who buy credits see it once per sign-in, whichever
/// server or browser tab answers their next page.
enum CreditAlertSchema {
    static let migration = Migration(version: 16, name: "credit pop-up per session") { _ in
        ["ALTER TABLE web_sessions ADD COLUMN credit_alert_shown_at BIGINT"]
    }
}
