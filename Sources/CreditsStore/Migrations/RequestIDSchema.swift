/// Version 30: the id of the HTTP request that queued a campaign, a voice broadcast or a
/// purchase, so the background jobs that finish that work log the request's id (`RequestID`).
/// NULL for work no request caused (auto-renew, monthly fees) and for rows made before.
enum RequestIDSchema {
    static let migration = Migration(version: 30, name: "request ids of queued work") { _ in
        [
            "ALTER TABLE campaigns ADD COLUMN request_id TEXT NULL",
            "ALTER TABLE voice_broadcasts ADD COLUMN request_id TEXT NULL",
            "ALTER TABLE purchases ADD COLUMN request_id TEXT NULL",
        ]
    }
}
