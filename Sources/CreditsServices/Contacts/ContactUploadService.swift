import CreditsCore
import CreditsStore
import Foundation

/// An uploaded file as the mapping step shows it: its columns with their guessed use, and how
/// many contacts it holds.
public struct ContactUploadView: Sendable {
    public var id: String
    public var fileName: String
    public var rowCount: Int
    public var header: [String]
    public var guesses: [ColumnChoice]
    /// The import started from it, once started.
    public var importID: String?
}

/// One of the first rows of a file as it would be imported: the contact, or why it would be
/// refused.
public struct ImportPreviewRow: Sendable {
    public var line: Int
    /// The row's cells as read.
    public var cells: [String]
    public var contact: Contact?
    public var refusal: String?
}

/// Contacts imported from a CSV file in the portal: the upload (read and kept in the database),
/// the mapping step's preview, and the start of the import, which goes through the same
/// `ContactImportService` and `ContactRules` as `POST /v1/contacts/import`.
public struct ContactUploadService: Sendable {
    let uploads: ContactUploadStore
    let imports: ContactImportService
    let now: @Sendable () -> Date

    public init(uploads: ContactUploadStore, imports: ContactImportService, now: @escaping @Sendable () -> Date) {
        self.uploads = uploads
        self.imports = imports
        self.now = now
    }

    /// How long an upload waits for its mapping.
    static let uploadLifetime: TimeInterval = 24 * 3600
    /// Rows the mapping step previews.
    public static let previewRows = 5

    /// Reads an uploaded file and keeps it for the mapping step; refuses a file that is not a CSV
    /// of contacts (nothing is kept then).
    public func upload(_ principal: Principal, fileName: String?, bytes: some Collection<UInt8>) async throws
        -> ContactUploadView
    {
        guard let fileName, !fileName.isEmpty || !bytes.isEmpty else { throw ContactFileError.noFile }
        let text = try ContactFile.text(bytes)
        let file = try ContactFile.readAll(text)
        let upload = ContactUpload(
            id: Identifier.make("upl_"),
            organizationID: principal.organizationID,
            staffID: principal.staff.id,
            fileName: ContactUploadService.cleanName(fileName),
            byteCount: bytes.count,
            rowCount: file.records.count,
            content: text,
            createdAt: now()
        )
        try await uploads.create(
            upload,
            forgettingBefore: now().addingTimeInterval(-ContactUploadService.uploadLifetime)
        )
        return ContactUploadService.view(upload, header: file.header)
    }

    /// An upload with its columns and their guessed use.
    public func upload(_ principal: Principal, _ id: String) async throws -> ContactUploadView {
        let upload = try await stored(principal, id)
        return ContactUploadService.view(upload, header: try ContactFile.read(upload.content, recordsMax: 0).header)
    }

    /// The first rows as a mapping would import them, and the reason the mapping itself would be
    /// refused, if it would.
    public func preview(_ principal: Principal, _ id: String, columns: [ColumnChoice], groups: [String])
        async throws -> (rows: [ImportPreviewRow], problem: String?)
    {
        let upload = try await stored(principal, id)
        let file = try ContactFile.read(upload.content, recordsMax: ContactUploadService.previewRows)
        let problem = ImportMapping.problem(columns, columnCount: file.header.count)
        let mapping = try? ImportMapping(columns, columnCount: file.header.count)
        let instant = now()
        let rows = file.records.map { record in
            guard let mapping else {
                return ImportPreviewRow(line: record.line, cells: record.cells, contact: nil, refusal: problem)
            }
            let entry = mapping.entry(record, groups: groups)
            do {
                if let refusal = entry.refusal { throw refusal }
                let contact = try ContactRules.contact(entry.input, organization: principal.organization, at: instant)
                return ImportPreviewRow(line: record.line, cells: record.cells, contact: contact, refusal: nil)
            } catch let error as any DomainError {
                return ImportPreviewRow(line: record.line, cells: record.cells, contact: nil, refusal: error.message)
            } catch {
                return ImportPreviewRow(
                    line: record.line,
                    cells: record.cells,
                    contact: nil,
                    refusal: "This row could not be read."
                )
            }
        }
        return (rows, problem)
    }

    /// Starts the import of an upload: the mapping, the groups and the consent are checked first
    /// (a refusal changes nothing and keeps the upload); then every row is checked and stored by
    /// the import service, and the import job adds them (the page follows its progress), whatever
    /// the file's size. Starting an upload twice finds the import the first start made.
    public func start(_ principal: Principal, _ id: String, _ input: FileImportInput) async throws
        -> ContactImportView
    {
        let upload = try await stored(principal, id)
        if let started = upload.importID { return try await imports.view(principal, started) }
        let file = try ContactFile.readAll(upload.content)
        let mapping = try ImportMapping(input.columns, columnCount: file.header.count)
        let groups = try ContactRules.groups(input.groups)
        if input.consent == .optedIn, (input.consentBasis ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ContactFileError.consentBasisMissing
        }
        if input.consent != nil { try principal.require(.manageSettings) }
        let importID = Identifier.make("imp_")
        guard try await uploads.claim(id, for: importID) else {
            // Sent twice at once: the other request started it (or is giving it back: try again).
            guard let started = try await stored(principal, id).importID else { throw StoreError.busy }
            return try await imports.view(principal, started)
        }
        do {
            return try await imports.receive(
                principal,
                id: importID,
                entries: file.records.map { mapping.entry($0, groups: groups) },
                consent: input.consent,
                consentBasis: input.consentBasis,
                file: .init(name: upload.fileName, columns: file.header),
                finishInRequest: false
            )
        } catch {
            try? await uploads.release(id, from: importID)
            throw error
        }
    }

    func stored(_ principal: Principal, _ id: String) async throws -> ContactUpload {
        guard let upload = try await uploads.upload(id, of: principal.organizationID) else {
            throw NotFoundError("The uploaded file \(id) (uploads are kept for a day)")
        }
        return upload
    }

    static func view(_ upload: ContactUpload, header: [String]) -> ContactUploadView {
        ContactUploadView(
            id: upload.id,
            fileName: upload.fileName,
            rowCount: upload.rowCount,
            header: header,
            guesses: ColumnChoice.guesses(header),
            importID: upload.importID
        )
    }

    /// The file's own name without any folder, control characters or more than 200 characters.
    static func cleanName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? name
        let clean = String(
            last.unicodeScalars.filter {
                $0.properties.generalCategory != .control && !InputRules.directionOverrides.contains($0)
            }.prefix(200)
        ).trimmingCharacters(in: .whitespaces)
        return clean.isEmpty ? "contacts.csv" : clean
    }
}
