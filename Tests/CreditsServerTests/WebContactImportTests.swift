import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The contacts import page: an office uploads a CSV file, says what each column holds while the
/// first rows show how they would be imported, chooses groups and consent, and reads what became
/// of every row — each one left out with its file line and reason, downloadable as CSV. Refusals
/// keep what was chosen and change nothing; permissions are the server's; another organisation's
/// uploads and imports are not found.
@Suite struct WebContactImportTests {
    static let stores = TestDatabase.available

    func owner(_ server: TestServer, _ name: String = "Bright Stars Gym") async throws -> PortalBrowser {
        try await PortalBrowser.signIn(
            server,
            email: "owner@\(AdministrationService.accountName(name)).example",
            password: "correct horse battery"
        )
    }

    /// Uploads `text` and returns the upload's id from the redirect to its mapping page.
    func upload(_ browser: inout PortalBrowser, _ text: String, name: String = "families.csv") async throws -> String {
        let uploaded = try await browser.upload("/contacts/import", file: ("file", name, Array(text.utf8)))
        #expect(uploaded.status == .seeOther, "\(uploaded.text)")
        let location = try #require(uploaded.headers[.location])
        #expect(location.hasPrefix("/contacts/import/upl_"), "\(location)")
        return String(location.dropFirst("/contacts/import/".count))
    }

    /// The import id a started import redirects to.
    func importID(_ response: TestResponse) throws -> String {
        #expect(response.status == .seeOther, "\(response.text)")
        let location = try #require(response.headers[.location])
        #expect(location.hasPrefix("/contacts/imports/imp_"), "\(location)")
        return String(location.dropFirst("/contacts/imports/".count))
    }

    func count(_ server: TestServer, _ table: String) async throws -> Int {
        try await server.services.database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first().map {
                try $0.decode(column: "n", as: Int.self)
            } ?? 0
        }
    }

    /// A file as spreadsheets save it: a byte-order mark, CRLF line ends, a quoted cell holding a
    /// comma and another holding a line break (so line numbers and record numbers differ).
    static let families =
        "\u{FEFF}Full Name,Mobile,E-mail,Class,Notes\r\n"
        + "Ana Ortiz,(415) 555-2671,ana@example.com,tumbling,\"Allergic to nuts,\r\nbring snacks\"\r\n"
        + "\"Park, Ben\",415 555 0001,,\"tumbling; vault\",\r\n"
        + "Cara Diaz,+1 415 555 0002,cara@example.com,,\r\n"

    /// How a file's records are read, and the line each starts on.
    @Test(arguments: [
        ("name,phone\nAna,1\nBen,2\n", ",", [2, 3]),
        ("name;phone\r\nAna;1\r\n\r\nBen;2", ";", [2, 4]),
        ("name\tphone\n\"Ana\nOrtiz\"\t1\n\"Ben\r\n\r\nPark\"\t2\nCara\t3\n", "\t", [2, 4, 7]),
        ("\"full\nname\",phone\rAna,\"1,2\"\rBen,2", ",", [3, 4]),
    ])
    func aFileIsReadWithTheLineEachRecordStartsOn(_ text: String, _ delimiter: String, _ lines: [Int]) throws {
        let file = try ContactFile.read(text)
        #expect(file.header.count == 2)
        #expect(file.records.map(\.line) == lines)
        #expect(file.records.allSatisfy { $0.cells.count == 2 }, "split on \(delimiter.debugDescription)")
    }

    @Test(arguments: stores)
    func anUploadedFileIsMappedPreviewedAndImportedWithConsent(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let contacts = try await owner.get("/contacts")
            #expect(contacts.text.contains(#"href="/contacts/import""#), "the contacts page links the import")
            let form = try await owner.get("/contacts/import")
            #expect(form.status == .ok)
            #expect(form.text.contains(#"enctype="multipart/form-data""#))
            let id = try await upload(&owner, WebContactImportTests.families)

            // Columns are guessed from the header; the preview shows the rows as they would be added.
            let mapping = try await owner.get("/contacts/import/\(id)")
            #expect(mapping.status == .ok, "\(mapping.text)")
            #expect(mapping.text.contains("3 contacts"))
            #expect(mapping.text.contains(#"<option value="name" selected>"#))
            #expect(mapping.text.contains(#"<option value="phone" selected>"#))
            #expect(mapping.text.contains(#"<option value="groups" selected>"#))
            #expect(mapping.text.contains("+1 415 555 2671"), "the number as it will be stored")
            #expect(mapping.text.contains("Park, Ben"))
            #expect(try await count(server, "contacts") == 0, "nothing is added before the import starts")

            // The preview follows other choices: the notes become a merge field.
            let preview = try await owner.get(
                "/app/contacts/import/\(id)/preview?column_0=name&column_1=phone&column_2=email&column_3=groups"
                    + "&column_4=field&field_4=notes"
            )
            #expect(preview.status == .ok)
            #expect(preview.text.contains("notes: Allergic to nuts"), "\(preview.text)")

            let started = try await owner.post(
                "/contacts/import/\(id)",
                [
                    "column_0": "name", "column_1": "phone", "column_2": "email", "column_3": "groups",
                    "column_4": "field", "field_4": "notes", "new_groups": "Spring 2027", "consent": "opted_in",
                    "consent_basis": "signed the enrolment form", "step": "start",
                ]
            )
            let importID = try importID(started)
            // Every file is added by the import job; its page shows where it stands.
            let waiting = try await owner.get("/contacts/imports/\(importID)")
            #expect(waiting.status == .ok)
            #expect(waiting.text.contains(#"<progress id="import-progress" max="3" value="0""#), "\(waiting.text)")
            #expect(!waiting.text.contains("contacts added"))
            try await server.services.contactImports.runAll()
            let page = try await owner.get("/contacts/imports/\(importID)")
            #expect(page.text.contains("3 contacts added"), "\(page.text)")
            #expect(page.text.contains("0 rows not imported"))
            let progress = try await owner.get("/app/contacts/imports/\(importID)")
            #expect(try progress.object()["finished"] as? Bool == true)
            #expect(try progress.object()["processed"] as? Int == 3)

            let listed = try await server.request(.get, "/v1/contacts?search=Park", key: org.ownerKey).list()
            let ben = try #require(listed.first)
            #expect(ben["phone"] as? String == "+14155550001")
            #expect(ben["groups"] as? [String] == ["spring 2027", "tumbling", "vault"])
            #expect(ben["consent"] as? String == "opted_in")
            let ana = try #require(
                try await server.request(.get, "/v1/contacts?search=Ana", key: org.ownerKey).list().first
            )
            #expect((ana["fields"] as? [String: String])?["notes"] == "Allergic to nuts,\r\nbring snacks")
            let contactPage = try await owner.get("/contacts/\(ben["id"] as? String ?? "")")
            #expect(contactPage.text.contains("Opted in by an import by Olive Owner: signed the enrolment form"))
            let job = try await server.request(.get, "/v1/contacts/imports/\(importID)", key: org.ownerKey).object()
            #expect(job["file_name"] as? String == "families.csv")
            #expect(job["consent_basis"] as? String == "signed the enrolment form")

            // The upload was used: its page now leads to the import, and a second start adds nothing.
            let again = try await owner.post("/contacts/import/\(id)", ["column_0": "name", "column_1": "phone"])
            #expect(try self.importID(again) == importID)
            #expect(try await count(server, "contacts") == 3)
            #expect(try await owner.get("/contacts/import/\(id)").headers[.location] == "/contacts/imports/\(importID)")
        }
    }

    /// 1,000 rows and a bad phone, a blank name, a repeated number and a formula: each row left
    /// out is listed with the line it is on in the file, and downloaded with it.
    @Test(arguments: stores)
    func rowsLeftOutAreReportedWithTheirFileLinesAndDownloadedSafely(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var owner = try await owner(server)
            var text = "name,phone,address\n"
            for index in 0..<1_000 {
                let phone = "+1415\(String(format: "%07d", 2_000_000 + index))"
                switch index {
                case 0: text += "Ana Ortiz,\(phone),\"1 Main St\nApt 2\nSpringfield\"\n"  // lines 2–4
                case 10: text += "Ben Park,12,\n"  // line 14: row k starts on line k + 4
                case 20: text += ",\(phone),\n"  // line 24
                case 30: text += "Repeat,+14152000000,\n"  // line 34: row 0's number again
                case 40: text += "\"=HYPERLINK(\"\"http://evil.example\"\")\",not a phone,\n"  // line 44
                default: text += "Parent \(index),\(phone),\n"
                }
            }
            let id = try await upload(&owner, text)
            let started = try await owner.post(
                "/contacts/import/\(id)",
                ["column_0": "name", "column_1": "phone", "column_2": "ignore", "consent": "none"]
            )
            let importID = try importID(started)
            try await server.services.contactImports.runAll()
            let page = try await owner.get("/contacts/imports/\(importID)")
            #expect(page.text.contains("996 contacts added"), "\(page.text)")
            #expect(page.text.contains("4 rows not imported"))
            for (line, reason) in [
                (14, "The phone number has too few digits."), (24, "Name cannot be empty."),
                (34, "already a contact"), (44, "phone number"),
            ] {
                let row = try #require(
                    PortalBrowser.firstMatch(#"<tr data-line="\#(line)">([\s\S]*?)</tr>"#, in: page.text),
                    "line \(line) is listed"
                )
                #expect(row.contains(reason), "line \(line): \(row)")
            }
            #expect(try await count(server, "contacts") == 996)

            let download = try await owner.get("/contacts/imports/\(importID)/skipped.csv")
            #expect(download.status == .ok)
            #expect(download.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(
                download.headers[.contentDisposition] == "attachment; filename=\"families-skipped-rows-2026-11-18.csv\""
            )
            let lines = download.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "line,reason,name,phone,address")
            #expect(lines.count == 5)
            #expect(lines[1] == "14,The phone number has too few digits.,Ben Park,12,")
            #expect(lines[2] == "24,Name cannot be empty.,,+14152000020,")
            let formula = try #require(lines.last)
            #expect(formula.hasPrefix(#"44,"#), "\(formula)")
            #expect(
                formula.contains(#","'=HYPERLINK(""http://evil.example"")",not a phone,"#),
                "neutralised: \(formula)"
            )
        }
    }

    @Test(arguments: stores)
    func aRefusedUploadIsExplainedAndKeepsNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var owner = try await owner(server)
            let cases: [(String, [UInt8], String)] = [
                ("photo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00], "not a CSV file in UTF-8"),
                ("latin1.csv", Array("name,phone\nJos".utf8) + [0xE9] + Array(",4155550100\n".utf8), "UTF-8"),
                ("", [], "Choose a CSV file to upload."),
                ("empty.csv", Array("\r\n".utf8), "The file is empty."),
                ("phones.csv", Array("phone\n4155550100\n".utf8), "has only one"),
                ("header.csv", Array("name,phone\n".utf8), "no contacts below it"),
                (
                    "big.csv", Array("name,phone\n".utf8) + [UInt8](repeating: 0x41, count: ContactFile.bytesMax),
                    "10 MB"
                ),
            ]
            for (name, bytes, sentence) in cases {
                let refused = try await owner.upload("/contacts/import", file: ("file", name, bytes))
                #expect(refused.status == .unprocessableContent, "\(name): \(refused.status)")
                #expect(refused.text.contains(sentence), "\(name): \(refused.text)")
                #expect(refused.text.contains(#"role="alert""#) && refused.text.contains(#"name="file""#))
            }
            var rows = "name,phone\n"
            for index in 0...ContactFile.rowsMax { rows += "P,+1415\(String(format: "%07d", 2_000_000 + index))\n" }
            let tooMany = try await owner.upload("/contacts/import", file: ("file", "many.csv", Array(rows.utf8)))
            #expect(tooMany.text.contains("The file has more than 50,000 contacts, the most one import takes."))
            // A body far over the limit is refused before it is all read.
            let huge = try await owner.upload(
                "/contacts/import",
                file: ("file", "huge.csv", [UInt8](repeating: 0x41, count: 3 * ContactFile.bytesMax))
            )
            #expect(huge.status == .contentTooLarge)
            #expect(huge.text.contains("larger than 10 MB"))
            // Without the page's token nothing is read.
            let forged = try await owner.upload(
                "/contacts/import",
                file: ("file", "families.csv", Array(WebContactImportTests.families.utf8)),
                withToken: false
            )
            #expect(forged.status == .forbidden)
            #expect(try await count(server, "contact_uploads") == 0)
            #expect(try await count(server, "contact_imports") == 0)
        }
    }

    @Test(arguments: stores)
    func aRefusedMappingKeepsTheChoicesAndChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var owner = try await owner(server)
            let id = try await upload(&owner, WebContactImportTests.families)
            let noPhone = try await owner.post(
                "/contacts/import/\(id)",
                [
                    "column_0": "name", "column_1": "ignore", "column_2": "email", "new_groups": "spring",
                    "step": "start",
                ]
            )
            #expect(noPhone.status == .unprocessableContent)
            #expect(noPhone.text.contains("Choose the column that holds each contact&#39;s mobile number."))
            #expect(noPhone.text.contains(#"value="spring""#), "typed groups are kept")
            let ignored = try #require(
                PortalBrowser.firstMatch(#"<select id="column_1"[^>]*>([\s\S]*?)</select>"#, in: noPhone.text)
            )
            #expect(ignored.contains(#"<option value="ignore" selected>"#), "the choice is kept")

            let noName = try await owner.post(
                "/contacts/import/\(id)",
                ["column_0": "ignore", "column_1": "phone", "step": "start"]
            )
            #expect(noName.text.contains("Choose the column that holds each contact&#39;s name"))

            let noBasis = try await owner.post(
                "/contacts/import/\(id)",
                ["column_0": "name", "column_1": "phone", "consent": "opted_in", "consent_basis": " ", "step": "start"]
            )
            #expect(noBasis.status == .unprocessableContent)
            #expect(noBasis.text.contains("Say how these contacts agreed to receive texts"))
            #expect(noBasis.text.contains(#"value="opted_in" checked"#))

            let badGroup = try await owner.post(
                "/contacts/import/\(id)",
                ["column_0": "name", "column_1": "phone", "new_groups": "a\u{7}b", "step": "start"]
            )
            #expect(badGroup.status == .unprocessableContent)
            #expect(try await count(server, "contacts") == 0)
            #expect(try await count(server, "contact_imports") == 0)
            #expect(try await count(server, "contact_groups") == 0)
            #expect(try await owner.get("/contacts/import/\(id)").status == .ok, "the upload waits for a mapping")
        }
    }

    @Test(arguments: stores)
    func consentForAFileNeedsThePermissionOnTheServer(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let clerk = try await server.addStaff(org, role: .staff, email: "clerk@example.com", permissions: [])
            _ = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"password": "clerk's long password"}"#
            )
            var browser = try await PortalBrowser.signIn(
                server,
                email: "clerk@example.com",
                password: "clerk's long password"
            )
            let id = try await upload(&browser, WebContactImportTests.families)
            let page = try await browser.get("/contacts/import/\(id)")
            #expect(!page.text.contains(#"value="opted_in""#), "the consent choice is not offered")
            let forged = try await browser.post(
                "/contacts/import/\(id)",
                [
                    "column_0": "name", "column_1": "phone", "consent": "opted_in",
                    "consent_basis": "they said so", "step": "start",
                ]
            )
            #expect(forged.status == .forbidden)
            #expect(try await count(server, "contacts") == 0)
            #expect(try await count(server, "contact_imports") == 0)
            // Without consent the clerk may import; the contacts wait for their opt-in.
            let started = try await browser.post(
                "/contacts/import/\(id)",
                ["column_0": "name", "column_1": "phone", "consent": "none", "step": "start"]
            )
            _ = try importID(started)
            try await server.services.contactImports.runAll()
            let added = try await server.request(.get, "/v1/contacts", key: org.ownerKey).list()
            #expect(added.count == 3)
            #expect(added.allSatisfy { $0["consent"] as? String == "pending" })
        }
    }

    @Test(arguments: stores)
    func anotherOrganisationsUploadsAndImportsAreNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            _ = try await server.makeOrganization("Other Office")
            var owner = try await owner(server)
            let id = try await upload(&owner, WebContactImportTests.families)
            let importID = try importID(
                try await owner.post("/contacts/import/\(id)", ["column_0": "name", "column_1": "phone"])
            )
            try await server.services.contactImports.runAll()
            let id2 = try await upload(&owner, WebContactImportTests.families)
            var stranger = try await self.owner(server, "Other Office")
            for path in [
                "/contacts/import/\(id2)", "/contacts/imports/\(importID)", "/contacts/imports/\(importID)/skipped.csv",
                "/app/contacts/imports/\(importID)", "/app/contacts/imports/\(importID)/result",
                "/app/contacts/import/\(id2)/preview?column_0=name",
            ] {
                #expect(try await stranger.get(path).status == .notFound, "\(path)")
            }
            let started = try await stranger.post(
                "/contacts/import/\(id2)",
                ["column_0": "name", "column_1": "phone", "step": "start"]
            )
            #expect(started.status == .notFound)
            #expect(try await count(server, "contacts") == 3, "only the first import added anyone")
        }
    }

    /// The largest file is taken whole and added by the import job in bounded batches, so other
    /// organisations' writes go on between them.
    @Test(arguments: stores)
    func aFileOfFiftyThousandContactsRunsAsTheBatchedJob(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            _ = try await server.makeOrganization()
            var owner = try await owner(server)
            var text = "name,phone\r\n"
            for index in 0..<ContactFile.rowsMax {
                text += "Parent \(index),+1415\(String(format: "%07d", 2_000_000 + index))\r\n"
            }
            #expect(text.utf8.count < ContactFile.bytesMax)
            let id = try await upload(&owner, text)
            let importID = try importID(
                try await owner.post("/contacts/import/\(id)", ["column_0": "name", "column_1": "phone"])
            )
            let waiting = try await owner.get("/app/contacts/imports/\(importID)").object()
            #expect(waiting["total"] as? Int == 50_000)
            #expect(waiting["finished"] as? Bool == false, "a large file is left to the import job")
            let page = try await owner.get("/contacts/imports/\(importID)")
            #expect(page.text.contains(#"<progress id="import-progress" max="50000" value="0""#), "\(page.text)")
            let batch = try await server.services.contactImports.runNext()
            #expect(batch == ContactImportService.unitsPerBatch)
            let running = try await owner.get("/app/contacts/imports/\(importID)").object()
            #expect(running["processed"] as? Int == batch)
            #expect(running["state"] as? String == "running")
            let other = try await server.makeOrganization("Small Studio")
            let write = try await server.request(
                .post,
                "/v1/contacts",
                key: other.ownerKey,
                json: #"{"name": "Walk In", "phone": "+14155550100"}"#
            )
            #expect(write.status == .created, "another organisation writes between two batches")
        }
    }
}
