import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct AlertTests {
    @Test(arguments: TestDatabase.available)
    func aLowBalanceMailsTheSenderAtMostOnceADay(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 30)
            let phones = (0..<10).map { "+1415555\(4000 + $0)" }
            try await server.importContacts(org, phones: phones)
            _ = try await server.request(
                .patch,
                "/v1/staff/\(org.ownerID)",
                key: org.ownerKey,
                json: #"{"low_balance_threshold": 25}"#
            )
            func send(_ numbers: ArraySlice<String>) async throws {
                let sent = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: try jsonText(["to": Array(numbers), "body": "Gym closed", "override_sending_hours": true])
                )
                #expect(sent.status == .created, "\(sent.text)")
            }
            try await send(phones[0..<4])
            #expect(
                try await server.request(.get, "/v1/mail", key: org.ownerKey).list().isEmpty,
                "26 left: not below 25 yet"
            )
            try await send(phones[4..<6])
            try await send(phones[6..<7])
            let mail = try await server.request(.get, "/v1/mail", key: org.ownerKey).list()
            #expect(mail.count == 1, "one mail a day however many sends find the balance low")
            #expect(mail.first?["to"] as? String == "owner@brightstarsgym.example")
            #expect(mail.first?["subject"] as? String == "SMS credits are running low")
            #expect(
                (mail.first?["body"] as? String)?.contains(
                    "Bright Stars Gym's SMS credit balance is 24 credits, below the 25"
                ) == true
            )
            #expect(mail.first?["status"] as? String == "stored")

            server.clock.advance(24 * 3600)
            try await send(phones[7..<8])
            #expect(
                try await server.request(.get, "/v1/mail", key: org.ownerKey).list().count == 2,
                "the next day gets its own alert"
            )

            // Someone without a threshold is not mailed.
            let staff = try await server.addStaff(org, role: .admin)
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: staff.key,
                json: #"{"to": ["\#(phones[8])"], "body": "Gym closed", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created)
            #expect(try await server.request(.get, "/v1/mail", key: org.ownerKey).list().count == 2)
        }
    }

    @Test(.enabled(if: SMTPTestServer.isAvailable, "needs aiosmtpd (.ci/run sets it up)"))
    func withSMTPTheAlertIsQueuedAndDeliveredOverSTARTTLS() async throws {
        let smtp = try await SMTPTestServer.start()
        let mail = SMTPConfiguration(
            host: "127.0.0.1",
            port: smtp.port,
            username: "mailer",
            password: "s3cret",
            from: "alerts@textcredits.example",
            trustRootsFile: smtp.certificate
        )
        try await TestServer.with(
            .sqlite,
            configure: { $0.mail = .smtp(mail) },
            { server in
                let org = try await server.makeOrganization()
                try await server.fund(org, credits: 5)
                try await server.importContacts(org, phones: ["+14155554100"])
                _ = try await server.request(
                    .patch,
                    "/v1/staff/\(org.ownerID)",
                    key: org.ownerKey,
                    json: #"{"low_balance_threshold": 10}"#
                )
                _ = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: #"{"to": ["+14155554100"], "body": "Gym closed", "override_sending_hours": true}"#
                )
                #expect(
                    try await server.request(.get, "/v1/mail", key: org.ownerKey).list().map { $0["status"] as? String }
                        == ["queued"]
                )
                #expect(try await server.services.mailDelivery.deliverQueued() == 1)
                #expect(try await server.services.mailDelivery.deliverQueued() == 0)
                #expect(
                    try await server.request(.get, "/v1/mail", key: org.ownerKey).list().map { $0["status"] as? String }
                        == ["sent"]
                )
                let received = try smtp.messages()
                #expect(received.count == 1)
                #expect(received.first?["to"] as? [String] == ["owner@brightstarsgym.example"])
                #expect(received.first?["tls"] as? Bool == true)
                #expect((received.first?["data"] as? String)?.contains("Subject: SMS credits are running low") == true)
            }
        )
    }
}
