import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Importing contacts from a CSV file: upload it (kept in the database for the next step), say
/// what each column holds while the first rows show how they would be imported, choose groups and
/// consent, then follow the import's progress and read what became of every row, with the rows
/// left out as a CSV download. The rows go through the same `ContactImportService` and rules as
/// `POST /v1/contacts/import`; a refusal shows the form again with what was chosen and changes
/// nothing.
extension WebRoutes {
    /// Rows left out that the result lists on the page (all of them are in the download).
    static let importRowsShown = 100

    func addContactImport(to portal: RouterGroup<AppRequestContext>) {
        let (routes, uploads, imports) = (self, uploads, imports)
        portal.get("/contacts/import") { request, context in
            try await routes.uploadPage(request, context, error: nil)
        }
        portal.post("/contacts/import") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let file = form.file("file")
                let upload = try await uploads.upload(
                    principal,
                    fileName: file?.fileName,
                    bytes: file?.bytes.readableBytesView ?? ByteBuffer().readableBytesView
                )
                return WebResponse.redirect("/contacts/import/\(upload.id)")
            } refused: { message in
                try await routes.uploadPage(request, context, error: message)
            }
        }
        portal.get("/contacts/import/:upload") { request, context in
            let upload = try await uploads.upload(try context.authenticated(), try context.parameter("upload"))
            if let started = upload.importID { return WebResponse.redirect("/contacts/imports/\(started)") }
            return try await routes.mappingPage(request, context, upload, typed: nil, error: nil)
        }
        portal.post("/contacts/import/:upload") { request, context in
            let (principal, form) = try context.webForm()
            let upload = try await uploads.upload(principal, try context.parameter("upload"))
            guard form.value("step") != "preview" else {
                return try await routes.mappingPage(request, context, upload, typed: form, error: nil)
            }
            return try await WebRoutes.keepingInput {
                let started = try await uploads.start(
                    principal,
                    upload.id,
                    WebRoutes.fileImportInput(form, columns: upload.header.count)
                )
                return WebResponse.redirect("/contacts/imports/\(started.id)")
            } refused: { message in
                try await routes.mappingPage(request, context, upload, typed: form, error: message)
            }
        }
        // The mapping page's script: the preview for the columns as chosen now.
        portal.get("/app/contacts/import/:upload/preview") { request, context in
            let principal = try context.authenticated()
            let upload = try await uploads.upload(principal, try context.parameter("upload"))
            let form = WebForm(encoded: request.uri.query ?? "")
            let values = try await routes.previewValues(principal, upload, form)
            return WebResponse.html(WebPages.render("contact-import-preview", values))
        }
        portal.get("/contacts/imports/:id") { request, context in
            let principal = try context.authenticated()
            let view = try await imports.view(principal, try context.parameter("id"))
            var values = try await routes.resultValues(principal, view)
            values["progress_href"] = "/app/contacts/imports/\(view.id)"
            return try await routes.pages.page(
                "contact-import-job",
                title: view.fileName.map { "Import of \($0)" } ?? "Contact import",
                section: "contacts",
                request: request,
                context: context,
                values: values
            )
        }
        // The import page's script: where the import stands, and its result once it is done.
        portal.get("/app/contacts/imports/:id") { _, context in
            let view = try await imports.view(try context.authenticated(), try context.parameter("id"))
            return try JSONOutput.response(ImportProgress(view))
        }
        portal.get("/app/contacts/imports/:id/result") { _, context in
            let principal = try context.authenticated()
            let view = try await imports.view(principal, try context.parameter("id"))
            let values = try await routes.resultValues(principal, view)
            return WebResponse.html(WebPages.render("contact-import-result", values))
        }
        portal.get("/contacts/imports/:id/skipped.csv") { _, context in
            let principal = try context.authenticated()
            let view = try await imports.view(principal, try context.parameter("id"))
            return try await WebRoutes.skippedRowsDownload(principal, view, imports: imports)
        }
    }

    /// The upload form, and the organisation's latest imports.
    func uploadPage(_ request: Request, _ context: AppRequestContext, error: String?) async throws -> Response {
        let principal = try context.authenticated()
        let zone = principal.organization.zone
        let recent = try await imports.imports(principal, after: nil, limit: 10)
        return try await pages.page(
            "contact-import",
            title: "Import contacts",
            section: "contacts",
            request: request,
            context: context,
            values: [
                "bytes_max": ContactFile.bytesMax,
                "megabytes_max": ContactFile.bytesMax / 1024 / 1024,
                "rows_max": "50,000",
                "has_imports": !recent.isEmpty,
                "imports": recent.map { job -> [String: Any] in
                    [
                        "id": job.id, "when": WebFormat.time(job.createdAt, in: zone),
                        "file": job.fileName ?? "Through the API", "status": WebRoutes.importStatus(job),
                        "added": job.added, "left_out": job.refused + job.skipped,
                    ]
                },
            ],
            refusal: error
        )
    }

    /// The mapping step: each column's use (guessed, or as chosen), the preview, groups, consent.
    func mappingPage(
        _ request: Request,
        _ context: AppRequestContext,
        _ upload: ContactUploadView,
        typed: WebForm?,
        error: String?
    ) async throws -> Response {
        let principal = try context.authenticated()
        let input = typed.map { WebRoutes.fileImportInput($0, columns: upload.header.count) }
        let columns = input?.columns ?? upload.guesses
        var values = try await previewValues(principal, upload, typed ?? WebForm(pairs: []))
        let samples = (values["sample_cells"] as? [[String]]) ?? []
        values["upload_id"] = upload.id
        values["file_name"] = upload.fileName
        values["row_count"] = ContactFile.grouped(upload.rowCount) + (upload.rowCount == 1 ? " contact" : " contacts")
        values["columns"] = upload.header.enumerated().map { index, header -> [String: Any] in
            let choice = index < columns.count ? columns[index] : ColumnChoice(.ignore)
            let sample = samples.compactMap { index < $0.count ? $0[index] : nil }.filter { !$0.isEmpty }.prefix(2)
            return [
                "index": index, "header": header, "sample": sample.joined(separator: ", "),
                "field_name": choice.fieldName ?? upload.guesses[index].fieldName ?? "",
                "options": ColumnUse.allCases.map { use -> [String: Any] in
                    ["value": use.rawValue, "label": use.label, "selected": use == choice.use]
                },
            ]
        }
        let chosen = Set(typed.map { $0.values("groups") } ?? [])
        values["groups"] = try await contacts.groupNames(principal).map { group -> [String: Any] in
            ["name": group, "checked": chosen.contains(group)]
        }
        values["new_groups"] = typed?.value("new_groups") ?? ""
        values["can_consent"] = principal.can(.manageSettings)
        values["consent_agreed"] = input?.consent == .optedIn
        values["consent_basis"] = typed?.value("consent_basis") ?? ""
        return try await pages.page(
            "contact-import-map",
            title: "Import contacts",
            section: "contacts",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    /// The first rows as the columns chosen in `form` (or guessed) would import them.
    func previewValues(_ principal: Principal, _ upload: ContactUploadView, _ form: WebForm) async throws
        -> [String: Any]
    {
        let input =
            form.value("column_0") == nil
            ? FileImportInput(columns: upload.guesses, groups: [], consent: nil, consentBasis: nil)
            : WebRoutes.fileImportInput(form, columns: upload.header.count)
        let (rows, problem) = try await uploads.preview(
            principal,
            upload.id,
            columns: input.columns,
            groups: input.groups
        )
        var values: [String: Any] = [
            "preview": rows.map { row -> [String: Any] in
                var values: [String: Any] = ["line": row.line]
                if let contact = row.contact {
                    values["contact"] = [
                        "name": contact.name, "first_name": contact.firstName, "phone": WebFormat.phone(contact.phone),
                        "email": contact.email ?? "", "groups": contact.groups.joined(separator: ", "),
                        "fields": contact.fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                            .joined(separator: "; "),
                    ]
                }
                if let refusal = row.refusal { values["refusal"] = WebRoutes.sentence(refusal) }
                return values
            },
            "sample_cells": rows.map(\.cells),
            "preview_count": rows.count,
        ]
        if let problem { values["problem"] = problem }
        return values
    }

    /// An import's counts and the rows left out, as the result shows them.
    func resultValues(_ principal: Principal, _ view: ContactImportView) async throws -> [String: Any] {
        let finished = view.status == .completed || view.status == .failed
        var values: [String: Any] = [
            "id": view.id, "total": view.total, "processed": view.processed, "finished": finished,
            "status": WebRoutes.importStatus(view), "state": view.status.rawValue,
            "percent": view.total == 0 ? 100 : view.processed * 100 / view.total,
        ]
        guard finished else { return values }
        let leftOut = try await imports.rowsLeftOut(
            principal,
            view.id,
            afterIndex: nil,
            limit: WebRoutes.importRowsShown + 1
        )
        let notes = view.errors.filter { $0.outcome == .added }
        let consent =
            switch view.consent {
            case .optedIn: "Opted in: \(view.consentBasis ?? "no reason given")"
            case .optedOut: "Recorded as opted out"
            case .pending, nil: "Not opted in: they are not texted until they opt in"
            }
        let result: [String: Any] = [
            "added": WebFormat.count(view.added, "contact") + " added",
            "left_out_count": view.refused + view.skipped,
            "left_out": WebFormat.count(view.refused + view.skipped, "row") + " not imported",
            "refused": view.refused, "skipped": view.skipped,
            "has_left_out": !leftOut.isEmpty,
            "rows": leftOut.prefix(WebRoutes.importRowsShown).map { row -> [String: Any] in
                [
                    "line": row.line.map(String.init) ?? "row \(row.index + 1)", "name": row.name ?? "",
                    "phone": row.phone ?? "", "reason": WebRoutes.sentence(row.message ?? ""),
                ]
            },
            "more": leftOut.count > WebRoutes.importRowsShown,
            "notes": notes.map { row -> [String: Any] in
                ["label": row.line.map { "Line \($0)" } ?? "Row \(row.index + 1)", "reason": row.message ?? ""]
            },
            "has_notes": !notes.isEmpty,
            "consent": consent,
            "download_href": "/contacts/imports/\(view.id)/skipped.csv",
        ]
        values["result"] = result
        if let failure = view.failure { values["failure"] = failure }
        return values
    }

    /// The column choices, groups and consent a mapping form sent.
    static func fileImportInput(_ form: WebForm, columns: Int) -> FileImportInput {
        let agreed = form.value("consent") == "opted_in"
        return FileImportInput(
            columns: (0..<columns).map { index in
                ColumnChoice(
                    ColumnUse(rawValue: form.value("column_\(index)") ?? "") ?? .ignore,
                    fieldName: form.value("field_\(index)")
                )
            },
            groups: chosenGroups(form),
            consent: agreed ? .optedIn : nil,
            consentBasis: agreed ? form.trimmed("consent_basis") : nil
        )
    }

    /// "Waiting to start", "Adding contacts", "Done", "Stopped".
    static func importStatus(_ view: ContactImportView) -> String {
        switch view.status {
        case .receiving: "Receiving the rows"
        case .queued: "Waiting to start"
        case .running: "Adding contacts"
        case .completed: "Done"
        case .failed: "Stopped"
        }
    }

    /// A rule's message as a sentence ("name cannot be empty." reads "Name cannot be empty.").
    static func sentence(_ message: String) -> String {
        message.prefix(1).uppercased() + message.dropFirst()
    }

    /// Every row left out, with its file line, reason and cells as they were in the file (so the
    /// rows can be fixed and imported again); cells that would start a formula are neutralised.
    static func skippedRowsDownload(_ principal: Principal, _ view: ContactImportView, imports: ContactImportService)
        async throws -> Response
    {
        let columns = view.fileColumns
        let header = ["line", "reason"] + (columns ?? ["name", "phone"])
        let parts = WebFormat.calendar(principal.organization.zone).dateComponents(
            [.year, .month, .day],
            from: view.createdAt
        )
        let day = "\(parts.year ?? 0)-\(WebFormat.twoDigits(parts.month ?? 0))-\(WebFormat.twoDigits(parts.day ?? 0))"
        let stem = view.fileName.map { ($0 as NSString).deletingPathExtension } ?? "contacts-import"
        let safe = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" }.prefix(60))
        let id = view.id
        return try await CSVDownload<ImportRowView>(
            filename: "\(safe.isEmpty ? "contacts" : safe)-skipped-rows-\(day).csv",
            header: header,
            row: { row in
                let first = [
                    row.line.map(String.init) ?? "row \(row.index + 1)", WebRoutes.sentence(row.message ?? ""),
                ]
                guard let columns else { return first + [row.name ?? "", row.phone ?? ""] }
                let cells = row.cells ?? []
                return first + (0..<max(columns.count, cells.count)).map { $0 < cells.count ? cells[$0] : "" }
            },
            page: { last in
                try await imports.rowsLeftOut(principal, id, afterIndex: last?.index, limit: 1000)
            }
        ).response()
    }
}

/// Where an import stands, for the import page's progress bar.
struct ImportProgress: Encodable {
    let status: String
    let state: ContactImportStatus
    let total: Int
    let processed: Int
    let finished: Bool

    init(_ view: ContactImportView) {
        status = WebRoutes.importStatus(view)
        state = view.status
        total = view.total
        processed = view.processed
        finished = view.status == .completed || view.status == .failed
    }
}
