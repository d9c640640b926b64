import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HTTPTypes
import TestSupport
import Testing

@Suite struct ContactRoutesTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func contactsAreNormalisedGroupedAndFiltered(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let ana = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json:
                    #"{"name": "Ana Ortiz", "phone": "(415) 555-2671", "groups": ["Families", "students"], "fields": {"class_name": "Ballet 2"}}"#
            )
            #expect(ana.status == .created, "\(ana.text)")
            let object = try ana.object()
            #expect(object["phone"] as? String == "+14155552671")
            #expect(object["first_name"] as? String == "Ana")
            #expect(object["groups"] as? [String] == ["families", "students"])
            #expect(object["consent"] as? String == "pending")
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ben Wu", "phone": "+1 416 555 0199", "groups": ["families"]}"#
            )
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Cy Doe", "phone": "415 555 0100", "groups": ["staff"]}"#
            )
            #expect(try await server.request(.get, "/v1/contacts?group=families", key: org.ownerKey).list().count == 2)
            #expect(
                try await server.request(.get, "/v1/contacts?search=ben", key: org.ownerKey).list().first?["name"]
                    as? String == "Ben Wu"
            )
            let groups = try await server.request(.get, "/v1/groups", key: org.ownerKey).list()
            #expect(
                groups.map { "\($0["name"] ?? "")=\($0["contacts"] ?? "")" } == ["families=2", "staff=1", "students=1"]
            )
            let page = try await server.request(.get, "/v1/contacts?limit=2", key: org.ownerKey)
            let cursor = try #require(try page.object()["next_cursor"] as? String)
            #expect(
                try await server.request(.get, "/v1/contacts?limit=2&cursor=\(cursor)", key: org.ownerKey).list().count
                    == 1
            )
        }
    }

    @Test(arguments: stores)
    func aDuplicateOrInvalidPhoneIsRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana", "phone": "4155552671"}"#
            )
            let duplicate = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana 2", "phone": "+14155552671"}"#
            )
            #expect(duplicate.status == .conflict)
            let invalid = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "X", "phone": "555-12"}"#
            )
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.errorField == "phone")
            #expect(invalid.errorCode == "phone_too_short")
            let foreign = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "X", "phone": "+33 1 23 45 67 89"}"#
            )
            #expect(foreign.errorCode == "phone_unsupported_country")
        }
    }

    @Test(arguments: stores)
    func consentIsRecordedWithHistoryAndOutlivesTheContact(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let id =
                try await server.request(
                    .post,
                    "/v1/contacts",
                    key: org.ownerKey,
                    json: #"{"name": "Ana", "phone": "4155552671", "consent": "opted_in"}"#
                ).object()["id"] as? String ?? ""
            let out = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_out"}"#
            )
            #expect(try out.object()["consent"] as? String == "opted_out")
            let history = try #require(try out.object()["consent_history"] as? [[String: Any]])
            #expect(history.map { $0["state"] as? String } == ["opted_in", "opted_out"])
            #expect(try await server.request(.delete, "/v1/contacts/\(id)", key: org.ownerKey).status == .noContent)
            let again = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana", "phone": "4155552671"}"#
            )
            #expect(try again.object()["consent"] as? String == "opted_out", "an opt-out is never forgotten")
        }
    }

    @Test(arguments: stores)
    func contactsCanBeChanged(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(country: .au)
            let id =
                try await server.request(
                    .post,
                    "/v1/contacts",
                    key: org.ownerKey,
                    json: #"{"name": "Mia Smith", "phone": "0412 345 678"}"#
                ).object()["id"] as? String ?? ""
            let changed = try await server.request(
                .patch,
                "/v1/contacts/\(id)",
                key: org.ownerKey,
                json: #"{"first_name": "Mimi", "groups": ["families"], "phone": "0412 345 679"}"#
            )
            #expect(try changed.object()["phone"] as? String == "+61412345679")
            #expect(try changed.object()["first_name"] as? String == "Mimi")
            #expect(try changed.object()["groups"] as? [String] == ["families"])
        }
    }

    @Test(arguments: stores)
    func groupsAreCreatedRenamedAndDeletedAndNeverAnotherOrganisations(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let other = try await server.makeOrganization("Other Office")
            let created = try await server.request(
                .post,
                "/v1/groups",
                key: org.ownerKey,
                json: #"{"name": "Tumbling"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let group = try created.object()
            #expect(
                group["name"] as? String == "tumbling" && group["contacts"] as? Int == 0
                    && group["opted_in"] as? Int == 0
            )
            let id = try #require(group["id"] as? String)
            let twice = try await server.request(.post, "/v1/groups", key: org.ownerKey, json: #"{"name": "TUMBLING"}"#)
            #expect(twice.status == .conflict && twice.errorCode == "conflict")
            let blank = try await server.request(.post, "/v1/groups", key: org.ownerKey, json: #"{"name": "  "}"#)
            #expect(blank.status == .unprocessableContent)

            for (method, json) in [(HTTPRequest.Method.get, nil), (.patch, #"{"name": "mine"}"#), (.delete, nil)] {
                let response = try await server.request(method, "/v1/groups/\(id)", key: other.ownerKey, json: json)
                #expect(response.status == .notFound, "\(method) another organisation's group")
            }
            let renamed = try await server.request(
                .patch,
                "/v1/groups/\(id)",
                key: org.ownerKey,
                json: #"{"name": "Vault"}"#
            )
            #expect(try renamed.object()["name"] as? String == "vault")
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json:
                    #"{"name": "Ana", "phone": "4155552671", "groups": ["vault"], "consent": "opted_in", "consent_basis": "paper form"}"#
            )
            let counted = try await server.request(.get, "/v1/groups/\(id)", key: org.ownerKey).object()
            #expect(counted["contacts"] as? Int == 1 && counted["opted_in"] as? Int == 1)
            #expect(try await server.request(.delete, "/v1/groups/\(id)", key: org.ownerKey).status == .noContent)
            #expect(try await server.request(.get, "/v1/groups/\(id)", key: org.ownerKey).status == .notFound)
            let contact = try #require(try await server.request(.get, "/v1/contacts", key: org.ownerKey).list().first)
            #expect(contact["groups"] as? [String] == [], "the contact stays, without the group")
        }
    }

    @Test(arguments: stores)
    func consentKeepsHowItWasGiven(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let id =
                try await server.request(
                    .post,
                    "/v1/contacts",
                    key: org.ownerKey,
                    json: #"{"name": "Ana", "phone": "4155552671"}"#
                ).object()["id"] as? String ?? ""
            let given = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_in", "basis": "said yes at the front desk"}"#
            )
            let history = try #require(try given.object()["consent_history"] as? [[String: Any]])
            #expect(history.last?["basis"] as? String == "said yes at the front desk")
            let tooLong = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_out", "basis": "\#(String(repeating: "b", count: 201))"}"#
            )
            #expect(tooLong.status == .unprocessableContent && tooLong.errorField == "basis")
            let blank = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_out", "basis": "  "}"#
            )
            #expect(
                blank.status == .unprocessableContent && blank.errorField == "basis",
                "schemathesis found a blank one accepted"
            )
            let after = try await server.request(.get, "/v1/contacts/\(id)", key: org.ownerKey).object()
            #expect(after["consent"] as? String == "opted_in", "a refused change changes nothing")
        }
    }
}
