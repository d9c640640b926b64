import CreditsCore
import CreditsStore
import Foundation

/// `POST /v1/contacts/import`: up to 10,000 contacts at once.
public struct ImportInput: APIInput, Sendable {
    public var contacts: [NewContactInput]
    /// Consent collected with the list (e.g. on enrolment forms); applies to every new number.
    public var consent: ConsentState?
    /// How that consent was given, in staff's words ("signed the enrolment form").
    public var consentBasis: String?

    enum CodingKeys: String, CodingKey {
        case contacts, consent
        case consentBasis = "consent_basis"
    }

    public static let fields = JSONFields(["contacts": NewContactInput.fields, "consent": nil, "consent_basis": nil])

    public init(contacts: [NewContactInput], consent: ConsentState? = nil, consentBasis: String? = nil) {
        self.contacts = contacts
        self.consent = consent
        self.consentBasis = consentBasis
    }
}

/// An import as the API shows it: where it stands, its counts, and the first rows that were
/// refused or carry a note (all of them at `GET /v1/contacts/imports/{id}/rows`).
public struct ContactImportView: Encodable, Sendable {
    public var id: String
    public var status: ContactImportStatus
    public var consent: ConsentState?
    public var consentBasis: String?
    /// The uploaded file the rows came from (imports made in the portal).
    public var fileName: String?
    /// That file's column names (not shown by the API: the skipped-rows download's header).
    public var fileColumns: [String]?
    public var total: Int
    public var processed: Int
    public var added: Int
    public var skipped: Int
    public var refused: Int
    public var failure: String?
    public var createdAt: Date
    public var finishedAt: Date?
    /// Up to `ContactImportService.errorsShown` rows refused or added with a note, in order.
    public var errors: [ImportRowView]

    enum CodingKeys: String, CodingKey {
        case id, status, consent, total, processed, added, skipped, refused, failure, errors
        case consentBasis = "consent_basis"
        case fileName = "file_name"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
    }

    init(_ job: ContactImport, errors: [ContactImportRow]) {
        id = job.id
        status = job.status
        consent = job.consent
        consentBasis = job.consentBasis
        fileName = job.fileName
        fileColumns = job.fileColumns
        total = job.total
        processed = job.processed
        added = job.added
        skipped = job.skipped
        refused = job.refused
        failure = job.failure
        createdAt = job.createdAt
        finishedAt = job.finishedAt
        self.errors = errors.map(ImportRowView.init)
    }
}

/// One row of an import and what became of it.
public struct ImportRowView: Encodable, Sendable {
    public var index: Int
    public var outcome: ImportRowOutcome
    public var name: String?
    public var phone: String?
    public var code: String?
    public var message: String?
    public var contactID: String?
    /// The file line the row starts on (the header is line 1), for imports of an uploaded file.
    public var line: Int?
    /// The row's cells as read from the file (not shown by the API).
    public var cells: [String]?

    enum CodingKeys: String, CodingKey {
        case index, outcome, name, phone, code, message, line
        case contactID = "contact_id"
    }

    init(_ row: ContactImportRow) {
        line = row.line
        cells = row.cells
        index = row.index
        outcome = row.outcome
        name = row.name
        phone = row.phone
        code = row.code
        message = row.message
        contactID = row.contactID
    }
}

/// Contact imports as jobs. The request checks every row (no database), stores the rows in
/// transactions of at most `rowsPerStore`, and answers; batches of at most `unitsPerBatch`
/// (a contact and each of its group memberships count one) are then added in one short
/// transaction each — by the request itself for small imports, by the background job for
/// large ones — so other organisations' writes are never kept waiting for long.
public struct ContactImportService: Sendable {
    let store: ContactImportStore
    let database: any Database
    let now: @Sendable () -> Date

    public init(store: ContactImportStore, database: any Database, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.database = database
        self.now = now
    }

    /// Most contacts one import takes.
    public static let importMax = 10_000
    /// Rows stored per transaction while receiving.
    static let rowsPerStore = 1_000
    /// Contacts plus group memberships added per transaction.
    public static let unitsPerBatch = 2_000
    /// Imports of at least this many rows refresh the planner's statistics when they finish.
    static let analyzeAfter = 1_000

    /// Imports of at most this many rows are finished before the request answers.
    public static let finishedInRequestMax = 1_000
    /// Rows with a reason shown in the import itself.
    static let errorsShown = 100
    /// An import still receiving after this long was interrupted.
    static let receivingTimeout: TimeInterval = 3600

    /// Checks and stores an import, then adds it (small imports) or leaves it to the job.
    /// Rows that break a rule are kept with their reason; numbers already present are skipped.
    /// Consent given for the whole list needs manage_settings. No signup messages are sent for
    /// imported consent.
    public func submit(_ principal: Principal, _ input: ImportInput) async throws -> ContactImportView {
        guard input.contacts.count <= ContactImportService.importMax else {
            throw ContactError.tooManyContacts(maximum: ContactImportService.importMax)
        }
        return try await receive(
            principal,
            id: Identifier.make("imp_"),
            entries: input.contacts.map { ImportEntry(input: $0) },
            consent: input.consent,
            consentBasis: input.consentBasis,
            file: nil,
            finishInRequest: input.contacts.count <= ContactImportService.finishedInRequestMax
        )
    }

    /// The name and columns of the file an import's rows come from.
    struct ImportedFile: Sendable {
        var name: String
        var columns: [String]
    }

    /// Checks every row by `ContactRules`, stores them in bounded transactions, then adds them
    /// (`finishInRequest`) or leaves them to the job: the API's and the portal's imports alike.
    func receive(
        _ principal: Principal,
        id: String,
        entries: [ImportEntry],
        consent: ConsentState?,
        consentBasis: String?,
        file: ImportedFile?,
        finishInRequest: Bool
    ) async throws -> ContactImportView {
        if consent == .pending { throw ContactError.consentNotGiven(field: "consent") }
        // Consent recorded for a whole list at once is an organisation's word on many numbers.
        if consent != nil { try principal.require(.manageSettings) }
        let basis = consent == nil ? nil : try ContactRules.consentBasis(consentBasis, field: "consent_basis")
        let instant = now()
        let rows = entries.enumerated().map { index, entry in
            var row = ContactImportService.checked(entry, index: index, principal: principal, at: instant)
            row.line = entry.line
            row.cells = entry.cells
            return row
        }
        let job = ContactImport(
            id: id,
            organizationID: principal.organizationID,
            actor: principal.actor,
            consent: consent,
            consentBasis: basis,
            fileName: file?.name,
            fileColumns: file?.columns,
            total: rows.count,
            createdAt: instant
        )
        try await store.create(job)
        for start in stride(from: 0, to: rows.count, by: ContactImportService.rowsPerStore) {
            try await store.append(
                Array(rows[start..<min(rows.count, start + ContactImportService.rowsPerStore)]),
                to: job.id
            )
        }
        try await store.queue(job.id, at: now())
        if finishInRequest {
            while try await addBatch(of: job.id) != nil {}
        }
        return try await view(principal, job.id)
    }

    /// One row checked: the contact it adds, or refused with the rule's reason.
    static func checked(_ entry: ImportEntry, index: Int, principal: Principal, at instant: Date)
        -> ContactImportRow
    {
        let row = entry.input
        do {
            if let refusal = entry.refusal { throw refusal }
            return ContactImportRow.pending(
                index: index,
                contact: try ContactRules.contact(row, organization: principal.organization, at: instant)
            )
        } catch let error as any DomainError {
            return ContactImportRow.refused(
                index: index,
                name: String(row.name.unicodeScalars.prefix(200)),
                phone: String(row.phone.unicodeScalars.prefix(40)),
                code: error.code,
                message: error.message
            )
        } catch {
            return ContactImportRow.refused(
                index: index,
                name: nil,
                phone: nil,
                code: "row_invalid",
                message: "This row could not be read."
            )
        }
    }

    /// One batch of the oldest open import (a background job); returns how many rows it handled.
    /// A batch that fails for any reason but a busy database stops its import (failed, saying
    /// why, the rows not yet handled left as they are), so one bad import cannot hold up the
    /// imports queued after it.
    public func runNext() async throws -> Int {
        guard let job = try await store.nextOpen() else { return 0 }
        do {
            return try await addBatch(of: job.id) ?? 0
        } catch StoreError.busy {
            throw StoreError.busy
        } catch {
            try await store.fail(
                job.id,
                reason:
                    "The import stopped after \(job.processed) of \(job.total) rows because of an error on our side; the rows before were added. Please import the rest again.",
                at: now()
            )
            throw error
        }
    }

    /// Fails imports whose request ended before every row was stored (a background job);
    /// returns how many.
    public func failInterrupted() async throws -> Int {
        try await store.failInterrupted(
            receivingBefore: now().addingTimeInterval(-ContactImportService.receivingTimeout),
            at: now()
        )
    }

    /// Adds every open import to the end (the benchmarks).
    public func runAll() async throws {
        while try await runNext() > 0 {}
    }

    /// Adds the next batch of an import in one unit of work; returns the rows handled, or nil
    /// when the import is not open (finished, or never queued).
    func addBatch(of importID: String) async throws -> Int? {
        let instant = now()
        return try await database.unitOfWork { work in
            guard let job = try await ContactImportStore.lockOpen(importID, in: work) else { return nil }
            let (batch, more) = try await ContactImportStore.pendingRows(
                importID,
                units: ContactImportService.unitsPerBatch,
                in: work
            )
            let contacts = batch.map {
                $0.contact(id: Identifier.make("con_"), organization: job.organizationID, at: instant)
            }
            let outcome = try await ContactStore.importContacts(
                contacts,
                consent: job.consent,
                basis: job.consentBasis,
                actor: job.actor.reference,
                at: instant,
                in: work
            )
            let refusedOptIn = Set(outcome.consentRefused)
            let handled = zip(batch, contacts).map { row, contact in
                var row = row
                if outcome.addedIDs.contains(contact.id) {
                    row.outcome = .added
                    row.contactID = contact.id
                    if refusedOptIn.contains(contact.phone) {
                        let refusal = ContactError.optedOutByRecipient(phone: contact.phone)
                        row.code = refusal.code
                        row.message = refusal.message
                    }
                } else {
                    row.outcome = .skipped
                    row.code = "already_present"
                    row.message = "\(contact.phone) is already a contact (or an earlier row had it)."
                }
                return row
            }
            let completed = !more
            let recorded = try await ContactImportStore.record(
                handled,
                of: job,
                completed: completed,
                at: instant,
                in: work
            )
            var audits = outcome.consentRefused.map { phone in
                ContactService.refusedOptIn(phone, actor: job.actor, organization: job.organizationID, at: instant)
            }
            if completed { audits.append(ContactImportService.finishedAudit(recorded, at: instant)) }
            try await AuditStore.insert(audits, in: work)
            // A big import finished: the planner learns the organisation's new rows in the same
            // transaction, so its first send never reads them with a plan made for none.
            if completed, job.total >= ContactImportService.analyzeAfter {
                try await ContactImportStore.refreshStatistics(in: work)
            }
            return handled.count
        }
    }

    /// "Imported 120 contacts (3 already present, 2 rows refused), opted in."
    static func finishedAudit(_ job: ContactImport, at instant: Date) -> AuditRecord {
        var counts = ["\(job.skipped) already present"]
        if job.refused > 0 { counts.append("\(job.refused) \(job.refused == 1 ? "row" : "rows") refused") }
        let consent = job.consent.map { ", \($0.rawValue.replacingOccurrences(of: "_", with: " "))" } ?? ""
        return AuditRecord(
            organization: job.organizationID,
            actor: job.actor,
            action: .contactsImported,
            message: "Imported \(job.added) contacts (\(counts.joined(separator: ", ")))\(consent).",
            subjectType: "contact_import",
            subjectID: job.id,
            at: instant
        )
    }

    /// `GET /v1/contacts/imports/{id}`.
    public func view(_ principal: Principal, _ id: String) async throws -> ContactImportView {
        let job = try await contactImport(principal, id)
        let errors = try await store.rows(
            of: id,
            outcome: nil,
            withReason: true,
            afterIndex: nil,
            limit: ContactImportService.errorsShown
        )
        return ContactImportView(job, errors: errors)
    }

    /// `GET /v1/contacts/imports`: newest first.
    public func imports(_ principal: Principal, after cursor: String?, limit: Int) async throws -> [ContactImportView] {
        try await store.imports(of: principal.organizationID, after: cursor, limit: limit).map {
            ContactImportView($0, errors: [])
        }
    }

    /// `GET /v1/contacts/imports/{id}/rows`: every row in order, or those with one outcome.
    public func rows(
        _ principal: Principal,
        _ id: String,
        outcome: ImportRowOutcome?,
        afterIndex: Int?,
        limit: Int
    ) async throws -> [ImportRowView] {
        _ = try await contactImport(principal, id)
        return try await store.rows(of: id, outcome: outcome, afterIndex: afterIndex, limit: limit).map(
            ImportRowView.init
        )
    }

    /// The rows of an import that were not added (refused or skipped), in order: the portal's
    /// result list and its skipped-rows download.
    public func rowsLeftOut(_ principal: Principal, _ id: String, afterIndex: Int?, limit: Int) async throws
        -> [ImportRowView]
    {
        _ = try await contactImport(principal, id)
        return try await store.rowsLeftOut(of: id, afterIndex: afterIndex, limit: limit).map(ImportRowView.init)
    }

    func contactImport(_ principal: Principal, _ id: String) async throws -> ContactImport {
        guard let job = try await store.contactImport(id, of: principal.organizationID) else {
            throw NotFoundError("Import \(id)")
        }
        return job
    }
}
