import CreditsCore
import Foundation
import SQLKit

/// One audit-log entry as read back.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Date
    public var actorType: ActorKind
    public var actorID: String?
    public var actorName: String
    public var action: String
    public var message: String
    public var subjectType: String?
    public var subjectID: String?

    enum CodingKeys: String, CodingKey {
        case id, at, action, message
        case actorType = "actor_type"
        case actorID = "actor_id"
        case actorName = "actor_name"
        case subjectType = "subject_type"
        case subjectID = "subject_id"
    }
}

/// Filters for reading the audit log.
public struct AuditQuery: Sendable {
    public var since: Date?
    public var until: Date?
    public var action: String?
    public var actorID: String?
    public var subjectID: String?
    public var afterID: Int64?
    public var limit: Int

    public init(
        since: Date? = nil,
        until: Date? = nil,
        action: String? = nil,
        actorID: String? = nil,
        subjectID: String? = nil,
        afterID: Int64? = nil,
        limit: Int = 100
    ) {
        self.since = since
        self.until = until
        self.action = action
        self.actorID = actorID
        self.subjectID = subjectID
        self.afterID = afterID
        self.limit = limit
    }
}

/// The append-only audit log.
public enum AuditStore {
    /// Most entries one read returns.
    public static let pageMax = 1000

    /// The `audit_log` table as bulk-written.
    static let rows = BulkTable<AuditRecord>(
        name: "audit_log",
        columns: [
            .text("organization_id") { $0.organization?.rawValue }, .bigint("created_at") { $0.at.milliseconds },
            .text("actor_type") { $0.actor.kind.rawValue }, .text("actor_id") { $0.actor.id },
            .text("actor_name") { $0.actor.name },
            .text("action") { $0.action.rawValue }, .text("message") { $0.message.description },
            .text("subject_type") { $0.subjectType },
            .text("subject_id") { $0.subjectID },
        ]
    )

    /// Writes entries in the caller's unit of work.
    public static func insert(_ records: [AuditRecord], in work: UnitOfWork) async throws {
        try await insert(records, on: work.sql)
    }

    /// Writes entries in a transaction of their own.
    public static func insert(_ records: [AuditRecord], into database: any Database) async throws {
        guard !records.isEmpty else { return }
        try await database.transaction { sql in try await insert(records, on: sql) }
    }

    static func insert(_ records: [AuditRecord], on sql: any SQLDatabase) async throws {
        try await BulkRows.insert(sql, into: rows, rows: records)
    }

    /// An organisation's entries, oldest first after the cursor.
    public static func list(_ organization: OrganizationID, _ query: AuditQuery, on database: any Database) async throws
        -> [AuditEntry]
    {
        try await database.read { sql in
            var text: SQLQueryString = """
                SELECT id, created_at, actor_type, actor_id, actor_name, action, message, subject_type, subject_id
                FROM audit_log WHERE organization_id = \(bind: organization.rawValue)
                """
            if let since = query.since { text += " AND created_at >= \(bind: since.milliseconds)" }
            if let until = query.until { text += " AND created_at < \(bind: until.milliseconds)" }
            if let action = query.action {
                text +=
                    " AND (action = \(bind: action) OR action LIKE \(bind: SQLLike.escaped(action) + ".%") ESCAPE '\\')"
            }
            if let actorID = query.actorID { text += " AND actor_id = \(bind: actorID)" }
            if let subjectID = query.subjectID { text += " AND subject_id = \(bind: subjectID)" }
            if let afterID = query.afterID { text += " AND id > \(bind: afterID)" }
            text += " ORDER BY id LIMIT \(bind: max(1, min(query.limit, pageMax)))"
            return try await sql.raw(text).all().map { row in
                AuditEntry(
                    id: try row.value("id"),
                    at: try row.date("created_at"),
                    actorType: ActorKind(rawValue: try row.value("actor_type")) ?? .system,
                    actorID: try row.optional("actor_id"),
                    actorName: try row.value("actor_name"),
                    action: try row.value("action"),
                    message: try row.value("message"),
                    subjectType: try row.optional("subject_type"),
                    subjectID: try row.optional("subject_id")
                )
            }
        }
    }
}
