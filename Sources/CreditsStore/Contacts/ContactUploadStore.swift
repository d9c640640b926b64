import CreditsCore
import Foundation
import SQLKit

/// A CSV file uploaded in the portal, kept between the upload and the mapping step. It lives in
/// the database, not in one server's memory, so the next step may reach any server process.
public struct ContactUpload: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    /// Who uploaded it.
    public var staffID: String
    public var fileName: String
    public var byteCount: Int
    /// Contacts in the file (records below the header, blank lines left out).
    public var rowCount: Int
    /// The file's text (UTF-8, without a byte-order mark).
    public var content: String
    /// The import started from it, once started (a second confirm finds it).
    public var importID: String?
    public var createdAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        staffID: String,
        fileName: String,
        byteCount: Int,
        rowCount: Int,
        content: String,
        importID: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.staffID = staffID
        self.fileName = fileName
        self.byteCount = byteCount
        self.rowCount = rowCount
        self.content = content
        self.importID = importID
        self.createdAt = createdAt
    }
}

/// Uploaded contact files. Each method is one short transaction.
public struct ContactUploadStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Keeps a new upload and forgets every upload made before `staleBefore` (an upload waits
    /// for its mapping for a day at most).
    public func create(_ upload: ContactUpload, forgettingBefore staleBefore: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "DELETE FROM contact_uploads WHERE created_at < \(bind: staleBefore.milliseconds)"
            ).run()
            try await sql.raw(
                """
                INSERT INTO contact_uploads (id, organization_id, staff_id, file_name, byte_count, row_count, content, created_at)
                VALUES (\(bind: upload.id), \(bind: upload.organizationID.rawValue), \(bind: upload.staffID),
                    \(bind: upload.fileName), \(bind: upload.byteCount), \(bind: upload.rowCount), \(bind: upload.content),
                    \(bind: upload.createdAt.milliseconds))
                """
            ).run()
        }
    }

    /// One of an organisation's uploads.
    public func upload(_ id: String, of organization: OrganizationID) async throws -> ContactUpload? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, staff_id, file_name, byte_count, row_count, content, import_id, created_at
                FROM contact_uploads WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                """
            ).first().map(ContactUploadStore.upload)
        }
    }

    /// Marks an upload as started by `importID`; false when another request started it first.
    public func claim(_ id: String, for importID: String) async throws -> Bool {
        try await database.transaction { sql in
            !(try await sql.raw(
                """
                UPDATE contact_uploads SET import_id = \(bind: importID)
                WHERE id = \(bind: id) AND import_id IS NULL RETURNING id
                """
            ).all()).isEmpty
        }
    }

    /// Undoes a claim whose import could not be stored, so the upload can be started again.
    public func release(_ id: String, from importID: String) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "UPDATE contact_uploads SET import_id = NULL WHERE id = \(bind: id) AND import_id = \(bind: importID)"
            ).run()
        }
    }

    static func upload(_ row: any SQLRow) throws -> ContactUpload {
        ContactUpload(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            staffID: try row.value("staff_id"),
            fileName: try row.value("file_name"),
            byteCount: try row.value("byte_count"),
            rowCount: try row.value("row_count"),
            content: try row.value("content"),
            importID: try row.optional("import_id"),
            createdAt: Date(milliseconds: try row.value("created_at"))
        )
    }
}
