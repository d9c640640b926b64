import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The Voice page: a broadcast from the form holds what its estimate said; forwarding needs
/// manage_settings; a click-to-call from the page rings the caller first.
@Suite struct WebVoiceTests {
    @Test(arguments: TestDatabase.available)
    func theVoicePageEstimatesSendsAndOnlySettingsManagersSetForwarding(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            try await server.importContacts(org, phones: ["+14155550100", "+14155550101"], group: "choir")
            while try await server.services.contactImports.runNext() > 0 {}
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let fields = [
                "message": "say", "say": "Choir practice moved to 7pm.", "machine_detection": "hang_up",
                "override_sending_hours": "on",
            ]
            let estimate = try await owner.post("/voice/estimate", fields, repeated: [("groups", "choir")])
            #expect(estimate.status == .ok)
            #expect(estimate.text.contains("2 recipients × 2.5 credits (1 minute at 2 + 0.5 detection) = 5 credits."))
            #expect(try await server.pool(org)["pending"] as? Double == 0, "an estimate holds nothing")

            // Nothing to say: refused with the sentence, what was typed kept, nothing held.
            var empty = fields
            empty["say"] = "   "
            let refused = try await owner.post("/voice/broadcasts", empty, repeated: [("groups", "choir")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("Give the message as audio"))
            #expect(try await server.pool(org)["pending"] as? Double == 0)

            let sent = try await owner.post("/voice/broadcasts", fields, repeated: [("groups", "choir")])
            #expect(sent.status == .seeOther, "\(sent.text)")
            let location = try #require(sent.headers[.location])
            #expect(location.hasPrefix("/voice/broadcasts/vbc_"))
            #expect(owner.flash == "notice:2 calls queued; 5 credits reserved.")
            let page = try await owner.get(location)
            #expect(page.text.contains("Choir practice moved to 7pm.") && page.text.contains("data-reload-while-live"))
            #expect(try await server.pool(org)["pending"] as? Double == 5)

            // A staff member may call but not change forwarding.
            var (staff, _) = try await PortalBrowser.signInNewStaff(
                server,
                org,
                email: "clerk@example.com",
                password: "clerk's long password"
            )
            let voice = try await staff.get("/voice")
            #expect(!voice.text.contains(#"action="/voice/forwarding""#), "no forwarding form for staff")
            _ = try await staff.post("/voice/forwarding", ["enabled": "on", "numbers": "+14155550199"])
            #expect(staff.flash?.hasPrefix("error:") == true)
            #expect(try await server.services.stores.calls.forwarding(of: org.id) == nil, "nothing saved")
            _ = try await staff.post("/voice/calls", ["to": "(415) 555-0101", "staff": "(415) 555-0150"])
            #expect(staff.flash?.hasPrefix("notice:Calling you at +1 415 555 0150") == true, "\(staff.flash ?? "")")

            _ = try await owner.post(
                "/voice/forwarding",
                [
                    "enabled": "on", "numbers": "(415) 555-0199\n(415) 555-0198", "ring_mode": "simultaneous",
                    "ring_seconds": "25",
                ]
            )
            #expect(owner.flash == "notice:Calls are forwarded to +1 415 555 0199, +1 415 555 0198.")
            let saved = try #require(try await server.services.stores.calls.forwarding(of: org.id))
            #expect(
                saved.numbers == ["+14155550199", "+14155550198"] && saved.ringMode == .simultaneous
                    && saved.ringSeconds == 25
            )
        }
    }
}
