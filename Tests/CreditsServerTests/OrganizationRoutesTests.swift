import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import TestSupport
import Testing

@Suite struct OrganizationRoutesTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func theOrganizationShowsItsSettingsAndWhoIsAsking(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let response = try await server.request(.get, "/v1/organization", key: org.ownerKey)
            #expect(response.status == .ok)
            let object = try response.object()
            #expect(object["name"] as? String == "Bright Stars Gym")
            #expect((object["me"] as? [String: Any])?["role"] as? String == "owner")
            let settings = try #require(object["sms_settings"] as? [String: Any])
            #expect(
                (settings["opt_out_reply"] as? String)?.hasPrefix("You have opted out of text messages from our system")
                    == true
            )
        }
    }

    @Test(arguments: stores)
    func smsSettingsChangeAndAreAudited(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let response = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: """
                    {"header": "Bright Stars Gym", "footer": "To opt out, reply STOP.", "smart_encoding": true,
                     "sending_hours": {"start": "08:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"]}}
                    """
            )
            #expect(response.status == .ok, "\(response.text)")
            let settings = try #require(try response.object()["sms_settings"] as? [String: Any])
            #expect(settings["header"] as? String == "Bright Stars Gym")
            #expect(settings["smart_encoding"] as? Bool == true)
            #expect((settings["sending_hours"] as? [String: Any])?["start"] as? String == "08:00")
            let log = try await server.request(.get, "/v1/audit-log?action=settings", key: org.ownerKey)
            #expect(try log.list().map { $0["message"] as? String } == ["SMS settings updated."])
        }
    }

    static let badSettings: [(String, Int, String?, String)] = [
        (#"{"header": "\#(String(repeating: "h", count: 51))"}"#, 422, "header", "field_too_long"),
        (#"{"footer": "\#(String(repeating: "f", count: 51))"}"#, 422, "footer", "field_too_long"),
        (#"{"signup_message": "\#(String(repeating: "s", count: 161))"}"#, 422, "signup_message", "field_too_long"),
        (#"{"sending_hours": {"start": "20:00", "end": "08:00"}}"#, 422, "sending_hours", "field_invalid"),
        (#"{"sending_hours": {"time_zone": "Mars/Base"}}"#, 422, "sending_hours", "field_invalid"),
        (#"{"sending_hours": {"start": "25:99"}}"#, 422, "sending_hours.start", "field_invalid"),
        (#"{"sending_hours": {"sunrise": "06:00"}}"#, 400, "sending_hours.sunrise", "unknown_field"),
        (#"{"smart_encoding": "yes"}"#, 422, "smart_encoding", "field_type"),
        (#"{"reply_mode": "carrier pigeon"}"#, 422, "reply_mode", "field_invalid"),
        (#"{"opt_out_reply": ""}"#, 422, "opt_out_reply", "field_invalid"),
        (#"{"help_reply": "Call {{nobody}}"}"#, 422, "help_reply", "field_invalid"),
        (#"{"colour": "blue"}"#, 400, "colour", "unknown_field"),
        ("[1, 2]", 400, nil, "invalid_json"),
        ("{not json", 400, nil, "invalid_json"),
    ]

    @Test(arguments: stores)
    func badSettingsAreRefusedNamingTheFieldAndChangeNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            for (body, status, field, code) in OrganizationRoutesTests.badSettings {
                let response = try await server.request(
                    .patch,
                    "/v1/organization/sms-settings",
                    key: org.ownerKey,
                    json: body
                )
                #expect(response.status.code == status, "\(body): \(response.text)")
                #expect(response.errorCode == code, "\(body): \(response.text)")
                if let field { #expect(response.errorField == field, "\(body): \(response.text)") }
            }
            let settings = try #require(
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                    as? [String: Any]
            )
            #expect(settings["header"] as? String == "")
        }
    }

    @Test(arguments: stores)
    func staffWithoutManageSettingsCannotChangeSettings(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let staff = try await server.addStaff(org, role: .staff)
            let response = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: staff.key,
                json: #"{"header": "x"}"#
            )
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "forbidden")
        }
    }

    @Test(arguments: stores)
    func requestsWithoutAValidKeyAreUnauthorized(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            for key in [
                nil, "nonsense", "tc_0000000000000000_" + String(repeating: "0", count: 48), org.ownerKey + "0",
            ] {
                let response = try await server.request(.get, "/v1/organization", key: key)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "unauthorized")
            }
        }
    }

    @Test(arguments: stores)
    func aRevokedKeyStopsWorking(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let created = try await server.request(
                .post,
                "/v1/api-keys",
                key: org.ownerKey,
                json: #"{"name": "Zapier"}"#
            )
            let object = try created.object()
            let key = try #require(object["api_key"] as? String)
            #expect(try await server.request(.get, "/v1/organization", key: key).status == .ok)
            let id = try #require(object["id"] as? String)
            #expect(try await server.request(.delete, "/v1/api-keys/\(id)", key: org.ownerKey).status == .noContent)
            #expect(try await server.request(.get, "/v1/organization", key: key).status == .unauthorized)
            // Idempotent (schemathesis found a key revoked with its holder's password reset answering
            // 404 to the DELETE that followed its creation).
            #expect(try await server.request(.delete, "/v1/api-keys/\(id)", key: org.ownerKey).status == .noContent)
            let other = try await server.makeOrganization("Other Office")
            #expect(try await server.request(.delete, "/v1/api-keys/\(id)", key: other.ownerKey).status == .notFound)
            let keys = try await server.request(.get, "/v1/api-keys", key: org.ownerKey).list()
            #expect(keys.allSatisfy { $0["api_key"] == nil && $0["secret_hash"] == nil })
        }
    }

    @Test(arguments: stores)
    func unknownRoutesAndMethodsAnswerInTheErrorShape(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let missing = try await server.request(.get, "/v1/nothing-here", key: org.ownerKey)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let wrongMethod = try await server.request(.put, "/v1/credits", key: org.ownerKey)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
        }
    }

    @Test(arguments: stores)
    func oversizedBodiesAreRefused(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let body = #"{"body": ""# + String(repeating: "a", count: 300_000) + #""}"#
            let response = try await server.request(.post, "/v1/estimate", key: org.ownerKey, json: body)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "body_too_large")
        }
    }
}
