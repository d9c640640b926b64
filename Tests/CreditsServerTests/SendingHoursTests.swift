import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import TestSupport
import Testing

/// Sending hours 08:00–20:00 on weekdays in Chicago, with the clock at 22:00 on a Tuesday.
@Suite struct SendingHoursRouteTests {
    static let stores = TestDatabase.available

    func setUp(_ server: TestServer) async throws -> (TestServer.Org, staff: (id: String, key: String)) {
        server.clock.set(ISO8601DateFormatter().date(from: "2026-11-18T04:00:00Z")!)  // Tue 22:00 CST
        let org = try await server.makeOrganization()
        try await server.fund(org, credits: 20)
        _ = try await server.request(
            .patch,
            "/v1/organization/sms-settings",
            key: org.ownerKey,
            json:
                #"{"sending_hours": {"start": "08:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"]}, "signup_message": "Welcome!"}"#
        )
        try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
        return (org, try await server.addStaff(org, role: .staff))
    }

    @Test(arguments: stores)
    func aManualMassTextOutsideTheHoursIsRefusedWithAWarning(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let (org, _) = try await setUp(server)
            let response = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Hi"}"#
            )
            #expect(response.status == .conflict)
            #expect(response.errorCode == "outside_sending_hours")
            #expect(
                try (response.object()["error"] as? [String: Any])?["message"] as? String
                    == "It is outside your SMS sending hours (08:00–20:00 America/Chicago); they open at 2026-11-18T14:00:00Z. Schedule the message, or send anyway with override_sending_hours if you have the Mass Text Availability Override permission."
            )
            #expect(try await server.pool(org)["pending"] as? Double == 0)
        }
    }

    @Test(arguments: stores)
    func onlyStaffWithTheOverridePermissionMaySendAnyway(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let (org, staff) = try await setUp(server)
            let forbidden = try await server.request(
                .post,
                "/v1/messages",
                key: staff.key,
                json: #"{"groups": ["families"], "body": "Hi", "override_sending_hours": true}"#
            )
            #expect(forbidden.status == .forbidden)
            let allowed = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Hi", "override_sending_hours": true}"#
            )
            #expect(allowed.status == .created)
            #expect(try allowed.object()["status"] as? String == "sending")
            #expect(try await server.services.dispatcher.runOnce() == 2)
        }
    }

    @Test(arguments: stores)
    func automatedAndScheduledSendsWaitForTheWindow(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let (org, _) = try await setUp(server)
            let automated = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Reminder", "automated": true}"#
            )
            #expect(automated.status == .created)
            #expect(try automated.object()["not_before"] as? String == "2026-11-18T14:00:00Z")
            let scheduled = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Later", "send_at": "2026-11-21T18:00:00Z"}"#
            )
            #expect(
                try scheduled.object()["not_before"] as? String == "2026-11-23T14:00:00Z",
                "Saturday noon waits for Monday 08:00"
            )
            #expect(try await server.services.dispatcher.runOnce() == 0)
            server.clock.set(ISO8601DateFormatter().date(from: "2026-11-18T14:00:00Z")!)
            #expect(try await server.services.dispatcher.runOnce() == 2)
        }
    }

    @Test(arguments: stores)
    func theSignupMessageGoesOutAtOnceEvenAtNight(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let (org, _) = try await setUp(server)
            let contact = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Night Owl", "phone": "+14155550199"}"#
            )
            let id = try #require(try contact.object()["id"] as? String)
            _ = try await server.request(
                .post,
                "/v1/contacts/\(id)/consent",
                key: org.ownerKey,
                json: #"{"state": "opted_in"}"#
            )
            #expect(try await server.services.dispatcher.runOnce() == 1)
            let sent = try await server.services.stores.simulator.all()
            #expect(sent.map(\.body) == ["Welcome!"])
            #expect(sent.first?.to == "+14155550199")
        }
    }
}
