import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The credit model in the portal: the plan page, the Edit Credits capacity check, the
/// allotment day, the combined log and buying into a wallet.
@Suite struct WebCreditModelTests {
    @Test(arguments: TestDatabase.available)
    func thePlanPageSubscribesAndShowsTheInvoice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await SubscriptionTests.catalogue(server)
            let org = try await server.makeOrganization()
            _ = try await BillingTests.putCard(server, org, "4242424242424242")
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let empty = try await owner.get("/billing/plan")
            #expect(empty.status == .ok && empty.text.contains("No plan yet"))
            _ = try await owner.post("/billing/plan", ["plan": "growth", "cycle": "monthly"])
            #expect(
                owner.flash
                    == "notice:You are on the Growth plan (monthly): 1000 plan credits added; see the invoice below."
            )
            let page = try await owner.get("/billing/plan")
            #expect(page.text.contains("Renews on 18 Dec 2026"), "\(page.text)")
            #expect(page.text.contains("data-testid=\"fee-invoice\""))
            _ = try await owner.post("/billing/plan/cancel", [:])
            #expect(
                owner.flash?.hasPrefix("notice:The Growth plan ends on 18 Dec 2026.") == true,
                "\(owner.flash ?? "")"
            )
            let staff = try await server.addStaff(org, role: .staff, email: "sam@example.com")
            _ = try await server.request(
                .patch,
                "/v1/staff/\(staff.id)",
                key: org.ownerKey,
                json: #"{"password": "staff password 1"}"#
            )
            var sam = try await PortalBrowser.signIn(server, email: "sam@example.com", password: "staff password 1")
            #expect(try await sam.get("/billing/plan").status == .forbidden)
            _ = try await sam.post("/billing/plan", ["plan": "starter"])
            #expect(sam.flash?.hasPrefix("error:") == true, "a staff member cannot change the plan")
        }
    }

    @Test(arguments: TestDatabase.available)
    func editCreditsAsksTheServerAsTheNumberIsTyped(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization(mode: .individual)
            try await server.fund(org, credits: 5_244)
            let staff = try await server.addStaff(org, role: .staff)
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let fits = try await owner.get("/app/staff/\(staff.id)/credit-capacity?credits=1202").object()
            #expect(fits["message"] == nil && fits["maximum"] as? Double == 5_244)
            let over = try await owner.get("/app/staff/\(staff.id)/credit-capacity?credits=12026").object()
            #expect(
                over["message"] as? String == "Credits per Month cannot be greater than 5244.",
                "the seed's sentence"
            )
            let bad = try await owner.get("/app/staff/\(staff.id)/credit-capacity?credits=-1")
            #expect(bad.status == .badRequest)
            let page = try await owner.get("/credits")
            #expect(page.text.contains("data-capacity-staff=\"\(staff.id)\""))

            _ = try await owner.post("/settings/organization/allotment-day", ["allotment_day": "15"])
            #expect(owner.flash == "notice:Allotments are added and numbers charged on day 15 of each month.")
            _ = try await owner.post("/settings/organization/allotment-day", ["allotment_day": "31"])
            #expect(owner.flash == "error:allotment_day is a day of the month from 1 to 28.")
            let organization = try await server.request(.get, "/v1/organization", key: org.ownerKey).object()
            #expect(organization["allotment_day"] as? Int == 15)
        }
    }
}
