import CreditsCore
import Foundation
import SQLKit

/// One organisation's media item (its bytes are kept apart, once per content).
public struct MediaItem: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var sha256: String
    public var filename: String
    public var kind: MediaKind
    public var size: Int
    /// Uploaded by staff, or received with an inbound text.
    public var received: Bool
    public var createdBy: String
    public var createdAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        sha256: String,
        filename: String,
        kind: MediaKind,
        size: Int,
        received: Bool,
        createdBy: String,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.sha256 = sha256
        self.filename = filename
        self.kind = kind
        self.size = size
        self.received = received
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// Media and their bytes.
public struct MediaStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Keeps the bytes (once per content) and records the organisation's item, in one transaction.
    public func save(_ item: MediaItem, bytes: Data) async throws {
        try await database.transaction { sql in
            try await MediaStore.insertBytes(bytes, sha256: item.sha256, kind: item.kind, at: item.createdAt, on: sql)
            try await sql.raw(
                """
                INSERT INTO media (id, organization_id, sha256, filename, kind, size, direction, created_by, created_at)
                VALUES (\(bind: item.id), \(bind: item.organizationID.rawValue), \(bind: item.sha256), \(bind: item.filename),
                        \(bind: item.kind.rawValue), \(bind: item.size), \(bind: item.received ? "received" : "uploaded"),
                        \(bind: item.createdBy), \(bind: item.createdAt.milliseconds))
                """
            ).run()
        }
    }

    /// Keeps bytes with no organisation's item yet (what the Simulator's provider side holds).
    public func saveBytes(_ bytes: Data, sha256: String, kind: MediaKind, at instant: Date) async throws {
        try await database.transaction { sql in
            try await MediaStore.insertBytes(bytes, sha256: sha256, kind: kind, at: instant, on: sql)
        }
    }

    /// Keeps a content's bytes once (a second upload of the same bytes finds them there).
    static func insertBytes(_ bytes: Data, sha256: String, kind: MediaKind, at instant: Date, on sql: any SQLDatabase)
        async throws
    {
        try await sql.raw(
            """
            INSERT INTO media_blobs (sha256, content_type, size, bytes, created_at)
            VALUES (\(bind: sha256), \(bind: kind.contentType), \(bind: bytes.count), \(bind: bytes), \(bind: instant.milliseconds))
            ON CONFLICT (sha256) DO NOTHING
            """
        ).run()
    }

    /// An item of an organisation (nil for another organisation's).
    public func item(_ id: String, of organization: OrganizationID) async throws -> MediaItem? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM media WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)"
            ).first().map(MediaStore.item)
        }
    }

    /// An item whatever its organisation (a signed link names it).
    public func item(_ id: String) async throws -> MediaItem? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM media WHERE id = \(bind: id)").first().map(MediaStore.item)
        }
    }

    /// The bytes of a content.
    public func bytes(_ sha256: String) async throws -> Data? {
        try await database.read { sql in
            try await sql.raw("SELECT bytes FROM media_blobs WHERE sha256 = \(bind: sha256)").first().map {
                try $0.decode(column: "bytes", as: Data.self)
            }
        }
    }

    static func item(_ row: any SQLRow) throws -> MediaItem {
        MediaItem(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            sha256: try row.value("sha256"),
            filename: try row.value("filename"),
            kind: MediaKind(rawValue: try row.value("kind")) ?? .jpeg,
            size: try row.value("size"),
            received: try row.value("direction", as: String.self) == "received",
            createdBy: try row.value("created_by"),
            createdAt: Date(milliseconds: try row.value("created_at"))
        )
    }
}
