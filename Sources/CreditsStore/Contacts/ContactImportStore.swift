import CreditsCore
import Foundation
import SQLKit

/// Where a contact import stands.
public enum ContactImportStatus: String, Sendable, Codable {
    /// The request is still storing its rows.
    case receiving
    /// Stored; waiting for the import job.
    case queued
    /// Being added, a batch at a time.
    case running
    /// Every row has its outcome.
    case completed
    /// Stopped before every row was stored (the upload was interrupted).
    case failed
}

/// What became of one row of an import.
public enum ImportRowOutcome: String, Sendable, Codable {
    /// Not handled yet.
    case pending
    /// Added as a new contact.
    case added
    /// Left out: the organisation already has the number (or an earlier row had it).
    case skipped
    /// Refused: the row breaks a rule (its code and message say which).
    case refused
}

/// A contact import: who started it, with what consent, and how far it has got.
public struct ContactImport: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var actor: Actor
    /// Consent recorded for every new number, if any.
    public var consent: ConsentState?
    /// How that consent was given, in staff's words ("signed the enrolment form").
    public var consentBasis: String?
    /// The uploaded file the rows came from (imports made in the portal).
    public var fileName: String?
    /// That file's column names, in order.
    public var fileColumns: [String]?
    public var status: ContactImportStatus
    public var total: Int
    /// Rows with an outcome (added + skipped + refused).
    public var processed: Int
    public var added: Int
    public var skipped: Int
    public var refused: Int
    /// Why the import stopped, when it failed.
    public var failure: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(
        id: String,
        organizationID: OrganizationID,
        actor: Actor,
        consent: ConsentState?,
        consentBasis: String? = nil,
        fileName: String? = nil,
        fileColumns: [String]? = nil,
        total: Int,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.actor = actor
        self.consent = consent
        self.consentBasis = consentBasis
        self.fileName = fileName
        self.fileColumns = fileColumns
        self.status = .receiving
        self.total = total
        self.processed = 0
        self.added = 0
        self.skipped = 0
        self.refused = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// One row of an import: the contact it describes (once checked) and what became of it.
public struct ContactImportRow: Sendable, Equatable {
    /// The row's position in the request, from 0.
    public var index: Int
    public var name: String?
    public var firstName: String?
    public var phone: String?
    public var email: String?
    public var groups: [String]
    public var fields: [String: String]
    public var outcome: ImportRowOutcome
    /// Why it was refused or skipped, or a note on an added row (consent withheld).
    public var code: String?
    public var message: String?
    /// The contact added.
    public var contactID: String?
    /// The line of the uploaded file the row starts on (the header is line 1); nil for the API.
    public var line: Int?
    /// The row's cells as read from the file, for the skipped-rows download.
    public var cells: [String]?

    /// A checked row waiting to be added.
    public static func pending(index: Int, contact: Contact) -> ContactImportRow {
        ContactImportRow(
            index: index,
            name: contact.name,
            firstName: contact.firstName,
            phone: contact.phone,
            email: contact.email,
            groups: contact.groups,
            fields: contact.fields,
            outcome: .pending
        )
    }

    /// A row that breaks a rule, with the text it had.
    public static func refused(index: Int, name: String?, phone: String?, code: String, message: String)
        -> ContactImportRow
    {
        ContactImportRow(
            index: index,
            name: name,
            phone: phone,
            groups: [],
            fields: [:],
            outcome: .refused,
            code: code,
            message: message
        )
    }

    public init(
        index: Int,
        name: String? = nil,
        firstName: String? = nil,
        phone: String? = nil,
        email: String? = nil,
        groups: [String],
        fields: [String: String],
        outcome: ImportRowOutcome,
        code: String? = nil,
        message: String? = nil,
        contactID: String? = nil,
        line: Int? = nil,
        cells: [String]? = nil
    ) {
        self.index = index
        self.name = name
        self.firstName = firstName
        self.phone = phone
        self.email = email
        self.groups = groups
        self.fields = fields
        self.outcome = outcome
        self.code = code
        self.message = message
        self.contactID = contactID
        self.line = line
        self.cells = cells
    }

    /// The contact a pending row adds (a fresh id; the import's organisation).
    public func contact(id: String, organization: OrganizationID, at instant: Date) -> Contact {
        Contact(
            id: id,
            organizationID: organization,
            name: name ?? "",
            firstName: firstName ?? "",
            phone: phone ?? "",
            email: email,
            groups: groups,
            fields: fields,
            consent: .pending,
            consentChangedAt: nil,
            createdAt: instant,
            updatedAt: instant
        )
    }
}

/// Contact imports and their rows. Storing rows and adding them are separate, short
/// transactions, so an import of any size never holds the write lock for long.
public struct ContactImportStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static let importColumns =
        "id, organization_id, actor, actor_name, consent, consent_basis, file_name, file_columns, status, total, processed, added, skipped, refused, failure, created_at, updated_at, finished_at"

    /// Records a new import (receiving its rows).
    public func create(_ job: ContactImport) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO contact_imports (id, organization_id, actor, actor_name, consent, consent_basis, file_name,
                    file_columns, status, total, created_at, updated_at)
                VALUES (\(bind: job.id), \(bind: job.organizationID.rawValue), \(bind: job.actor.reference), \(bind: job.actor.name),
                    \(bind: job.consent?.rawValue), \(bind: job.consentBasis), \(bind: job.fileName),
                    \(bind: job.fileColumns.map(ContactImportStore.json)), 'receiving', \(bind: job.total),
                    \(bind: job.createdAt.milliseconds), \(bind: job.createdAt.milliseconds))
                """
            ).run()
        }
    }

    /// Stores some of an import's rows, in one short transaction.
    public func append(_ rows: [ContactImportRow], to importID: String) async throws {
        guard !rows.isEmpty else { return }
        try await database.transaction { sql in
            try await BulkRows.insert(sql, into: ContactImportStore.rowTable(importID), rows: rows)
        }
    }

    /// Every row is stored: the import waits for the job, its refused rows already counted.
    public func queue(_ importID: String, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE contact_imports SET status = 'queued', updated_at = \(bind: instant.milliseconds),
                    refused = (SELECT COUNT(*) FROM contact_import_rows WHERE import_id = \(bind: importID) AND outcome = 'refused'),
                    processed = (SELECT COUNT(*) FROM contact_import_rows WHERE import_id = \(bind: importID) AND outcome = 'refused')
                WHERE id = \(bind: importID) AND status = 'receiving'
                """
            ).run()
        }
    }

    /// Imports still receiving since before `instant` were interrupted (their request ended
    /// without finishing): they fail, saying so. Returns how many.
    public func failInterrupted(receivingBefore instant: Date, at now: Date) async throws -> Int {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE contact_imports SET status = 'failed', failure = 'The upload was interrupted before every row was stored; nothing was added. Please import the file again.',
                    updated_at = \(bind: now.milliseconds), finished_at = \(bind: now.milliseconds)
                WHERE status = 'receiving' AND created_at < \(bind: instant.milliseconds) RETURNING id
                """
            ).all().count
        }
    }

    /// Stops an open import, saying why.
    public func fail(_ importID: String, reason: String, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE contact_imports SET status = 'failed', failure = \(bind: reason), updated_at = \(bind: instant.milliseconds),
                    finished_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: importID) AND status IN ('queued', 'running')
                """
            ).run()
        }
    }

    /// The oldest import waiting for (or in the middle of) being added.
    /// Gives PostgreSQL's planner fresh statistics of the contact tables, in the caller's unit of
    /// work (ANALYZE is transactional there). Without it an organisation the statistics have never
    /// seen is estimated at one row, and the first send to its thousands of new contacts gets a
    /// nested-loop plan that takes seconds (15 s for 10,000). SQLite's planner needs none.
    public static func refreshStatistics(in work: UnitOfWork) async throws {
        guard work.dialect == .postgres else { return }
        for table in ["contacts", "contact_group_members", "consents"] {
            try await work.sql.raw("ANALYZE \(ident: table)").run()
        }
    }

    public func nextOpen() async throws -> ContactImport? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: ContactImportStore.importColumns) FROM contact_imports
                WHERE status IN ('queued', 'running') ORDER BY created_at, id LIMIT 1
                """
            ).first().map(ContactImportStore.contactImport)
        }
    }

    /// One of an organisation's imports.
    public func contactImport(_ id: String, of organization: OrganizationID) async throws -> ContactImport? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: ContactImportStore.importColumns) FROM contact_imports
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                """
            ).first().map(ContactImportStore.contactImport)
        }
    }

    /// An organisation's imports, newest first, after `cursor` (an import id).
    public func imports(of organization: OrganizationID, after cursor: String?, limit: Int) async throws
        -> [ContactImport]
    {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: ContactImportStore.importColumns) FROM contact_imports
                WHERE organization_id = \(bind: organization.rawValue)
                """
            if let cursor { query += " AND id < \(bind: cursor)" }
            query += " ORDER BY id DESC LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(ContactImportStore.contactImport)
        }
    }

    /// An import's rows in order, after row `afterIndex`; only those with `outcome`, or only
    /// those carrying a reason (`withReason`), when asked.
    public func rows(
        of importID: String,
        outcome: ImportRowOutcome?,
        withReason: Bool = false,
        afterIndex: Int?,
        limit: Int
    ) async throws -> [ContactImportRow] {
        try await database.read { sql in
            var query: SQLQueryString = "SELECT * FROM contact_import_rows WHERE import_id = \(bind: importID)"
            if let outcome { query += " AND outcome = \(bind: outcome.rawValue)" }
            if withReason { query += " AND code IS NOT NULL AND outcome <> 'skipped'" }
            if let afterIndex { query += " AND row_index > \(bind: afterIndex)" }
            query += " ORDER BY row_index LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(ContactImportStore.row)
        }
    }

    /// An import's rows that were not added (refused or skipped), in order, after row `afterIndex`.
    public func rowsLeftOut(of importID: String, afterIndex: Int?, limit: Int) async throws -> [ContactImportRow] {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT * FROM contact_import_rows WHERE import_id = \(bind: importID)
                AND outcome IN ('refused', 'skipped')
                """
            if let afterIndex { query += " AND row_index > \(bind: afterIndex)" }
            query += " ORDER BY row_index LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(ContactImportStore.row)
        }
    }

    // MARK: A batch, in the caller's unit of work

    /// Locks an open import for a batch (two workers on one import take turns); nil when it is
    /// not open.
    public static func lockOpen(_ importID: String, in work: UnitOfWork) async throws -> ContactImport? {
        let lock = work.dialect == .postgres ? " FOR UPDATE" : ""
        return try await work.sql.raw(
            """
            SELECT \(unsafeRaw: importColumns) FROM contact_imports
            WHERE id = \(bind: importID) AND status IN ('queued', 'running')\(unsafeRaw: lock)
            """
        ).first().map(contactImport)
    }

    /// The next rows waiting to be added, in order, as many as fit in `units` (a contact and
    /// each of its groups count one; at least one row). Read a few at a time, so a batch of
    /// contacts in many groups does not read rows it will not take.
    public static func pendingRows(_ importID: String, units: Int, in work: UnitOfWork) async throws
        -> (rows: [ContactImportRow], more: Bool)
    {
        var taken: [ContactImportRow] = []
        var used = 0
        var after = -1
        var page = 32
        while true {
            let rows = try await work.sql.raw(
                """
                SELECT * FROM contact_import_rows WHERE import_id = \(bind: importID) AND outcome = 'pending'
                AND row_index > \(bind: after) ORDER BY row_index LIMIT \(bind: page)
                """
            ).all().map(row)
            for row in rows {
                let cost = 1 + row.groups.count
                if !taken.isEmpty, used + cost > units { return (taken, true) }
                taken.append(row)
                used += cost
            }
            guard rows.count == page, let last = rows.last else { return (taken, false) }
            after = last.index
            page = min(page * 4, 2048)
        }
    }

    /// Writes the outcomes of handled rows and moves the import's counts on; completes it when
    /// no row is left pending.
    public static func record(
        _ rows: [ContactImportRow],
        of job: ContactImport,
        completed: Bool,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> ContactImport {
        let outcomes = BulkTable<ContactImportRow>(
            name: "contact_import_rows",
            columns: [
                .text("id") { ContactImportStore.rowID(job.id, $0.index) }, .text("outcome") { $0.outcome.rawValue },
                .text("code") { $0.code }, .text("message") { $0.message }, .text("contact_id") { $0.contactID },
            ]
        )
        try await BulkRows.update(work.sql, outcomes, rows: rows)
        var next = job
        next.added += rows.filter { $0.outcome == .added }.count
        next.skipped += rows.filter { $0.outcome == .skipped }.count
        next.refused += rows.filter { $0.outcome == .refused }.count
        next.processed += rows.count
        next.status = completed ? .completed : .running
        next.updatedAt = instant
        if completed { next.finishedAt = instant }
        try await work.sql.raw(
            """
            UPDATE contact_imports SET status = \(bind: next.status.rawValue), processed = \(bind: next.processed),
                added = \(bind: next.added), skipped = \(bind: next.skipped), refused = \(bind: next.refused),
                updated_at = \(bind: instant.milliseconds), finished_at = \(bind: next.finishedAt?.milliseconds)
            WHERE id = \(bind: job.id)
            """
        ).run()
        return next
    }

    // MARK: Rows

    static func rowID(_ importID: String, _ index: Int) -> String { "\(importID):\(index)" }

    static func rowTable(_ importID: String) -> BulkTable<ContactImportRow> {
        BulkTable(
            name: "contact_import_rows",
            columns: [
                .text("id") { rowID(importID, $0.index) }, .text("import_id") { _ in importID },
                .integer("row_index") { $0.index }, .text("name") { $0.name }, .text("first_name") { $0.firstName },
                .text("phone") { $0.phone }, .text("email") { $0.email },
                .text("group_names") { $0.groups.joined(separator: "\n") },
                .text("field_values") { ContactImportStore.json($0.fields) },
                .text("outcome") { $0.outcome.rawValue }, .text("code") { $0.code }, .text("message") { $0.message },
                .text("contact_id") { $0.contactID }, .integer("line") { $0.line },
                .text("cells") { $0.cells.map(ContactImportStore.json) },
            ]
        )
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func row(_ row: any SQLRow) throws -> ContactImportRow {
        let groups: String? = try row.optional("group_names")
        let fields: String? = try row.optional("field_values")
        return ContactImportRow(
            index: try row.value("row_index"),
            name: try row.optional("name"),
            firstName: try row.optional("first_name"),
            phone: try row.optional("phone"),
            email: try row.optional("email"),
            groups: groups.map { $0.isEmpty ? [] : $0.split(separator: "\n").map(String.init) } ?? [],
            fields: fields.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:],
            outcome: ImportRowOutcome(rawValue: try row.value("outcome")) ?? .pending,
            code: try row.optional("code"),
            message: try row.optional("message"),
            contactID: try row.optional("contact_id"),
            line: try row.optional("line"),
            cells: try row.optional("cells", as: String.self).flatMap(ContactImportStore.strings)
        )
    }

    static func strings(_ json: String) -> [String]? {
        try? JSONDecoder().decode([String].self, from: Data(json.utf8))
    }

    static func contactImport(_ row: any SQLRow) throws -> ContactImport {
        var job = ContactImport(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            actor: Actor(reference: try row.value("actor"), name: try row.value("actor_name")),
            consent: try row.optional("consent", as: String.self).flatMap(ConsentState.init(rawValue:)),
            total: try row.value("total"),
            createdAt: Date(milliseconds: try row.value("created_at"))
        )
        job.consentBasis = try row.optional("consent_basis")
        job.fileName = try row.optional("file_name")
        job.fileColumns = try row.optional("file_columns", as: String.self).flatMap(ContactImportStore.strings)
        job.status = ContactImportStatus(rawValue: try row.value("status")) ?? .failed
        job.processed = try row.value("processed")
        job.added = try row.value("added")
        job.skipped = try row.value("skipped")
        job.refused = try row.value("refused")
        job.failure = try row.optional("failure")
        job.updatedAt = Date(milliseconds: try row.value("updated_at"))
        job.finishedAt = try row.optionalDate("finished_at")
        return job
    }
}
