import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// Picture messages: media checked by their bytes and kept in the database, MMS priced flat per
/// recipient with the media handed to the provider at a signed link that expires (the
/// PastorsLine page: "MMS / Picture messages … 2 credits (per person you send it to)").
@Suite struct MediaTests {
    static let stores = TestDatabase.available

    /// The first bytes of a PNG file, then padding to `size`.
    static func png(size: Int = 2_048) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: max(0, size - 8))
    }

    static func upload(
        _ server: TestServer,
        _ org: TestServer.Org,
        _ bytes: [UInt8],
        filename: String = "closure.png"
    ) async throws -> TestResponse {
        let boundary = "----TextCreditsTest"
        var body = ByteBuffer()
        body.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: image/png\r\n\r\n"
        )
        body.writeBytes(bytes)
        body.writeString("\r\n--\(boundary)--\r\n")
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(org.ownerKey)"
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return try await server.client.execute(uri: "/v1/media", method: .post, headers: headers, body: body)
    }

    @Test(arguments: stores)
    func uploadsAreCheckedByTheirBytesAndSize(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let picture = try await MediaTests.upload(server, org, MediaTests.png())
            #expect(picture.status == .created, "\(picture.text)")
            let view = try picture.object()
            #expect(view["content_type"] as? String == "image/png" && view["size"] as? Int == 2_048)
            let id = try #require(view["id"] as? String)
            let fetched = try await server.request(.get, "/v1/media/\(id)", key: org.ownerKey)
            #expect(fetched.status == .ok && fetched.headers[.contentType] == "image/png")
            #expect(fetched.body.readableBytes == 2_048)

            let executable: [UInt8] = Array("MZ".utf8) + [UInt8](repeating: 0x90, count: 500)
            let renamed = try await MediaTests.upload(server, org, executable, filename: "photo.jpg")
            #expect(renamed.errorCode == "media_type_not_accepted", "a renamed executable is refused by its bytes")
            let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 100)
            #expect(
                try await MediaTests.upload(server, org, elf, filename: "x.png").errorCode == "media_type_not_accepted"
            )
            let huge = try await MediaTests.upload(server, org, MediaTests.png(size: 5 * 1024 * 1024 + 1))
            #expect(huge.errorCode == "media_too_large", "\(huge.text)")
            let far = try await MediaTests.upload(server, org, MediaTests.png(size: 6 * 1024 * 1024))
            #expect(far.status == .contentTooLarge && far.errorCode == "media_too_large", "read no further than 5 MB")
            let big = try await MediaTests.upload(server, org, MediaTests.png(size: 700 * 1024))
            #expect((try big.object()["warnings"] as? [String])?.first?.contains("600 KB") == true)

            let other = try await server.makeOrganization("Other Office")
            #expect(try await server.request(.get, "/v1/media/\(id)", key: other.ownerKey).status == .notFound)

            // A header name with bytes above 0x7F used to stop the whole server inside the
            // multipart parser; now it is an unreadable form.
            var hostile = ByteBuffer()
            hostile.writeString("--b1\r\n")
            hostile.writeBytes(
                [0x24, 0xC3, 0xAC, 0x4A, 0xF1, 0xAC, 0x81, 0x89] + Array("x\r\n\r\nbody\r\n--b1--\r\n".utf8)
            )
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(org.ownerKey)"
            headers[.contentType] = "multipart/form-data; boundary=b1"
            let refused = try await server.client.execute(
                uri: "/v1/media",
                method: .post,
                headers: headers,
                body: hostile
            )
            #expect(
                refused.status == .badRequest,
                "\(refused.body.getString(at: 0, length: refused.body.readableBytes) ?? "")"
            )
            #expect(try await server.request(.get, "/v1/media/\(id)", key: org.ownerKey).status == .ok, "still serving")
        }
    }

    @Test(arguments: stores)
    func anMMSToAThousandRecipientsReservesAndSettlesTwoCreditsEachWithTheMediaLink(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 2_000)
            let phones = (0..<1_000).map { "+1415555\(String(format: "%04d", 3_000 + $0))" }
            try await server.importContacts(org, phones: phones)
            let id = try #require(try await MediaTests.upload(server, org, MediaTests.png()).object()["id"] as? String)
            let long = String(repeating: "The school is closed today. ", count: 20)
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: try jsonText(["groups": ["families"], "body": long, "media": [id]])
            )
            #expect(sent.status == .created, "\(sent.text)")
            #expect(try sent.object()["channel"] as? String == "mms")
            #expect(try await server.pool(org)["pending"] as? Double == 2_000, "2 credits each, whatever the length")
            while try await server.services.dispatcher.runOnce() > 0 {}
            let simulated = try await server.services.stores.simulator.all()
            #expect(simulated.count == 1_000)
            #expect(
                simulated.allSatisfy { $0.mediaURLs.count == 1 && $0.mediaURLs[0].contains("/media/\(id)?expires=") }
            )
            let link = try #require(simulated.first?.mediaURLs.first)
            let path = String(link[link.range(of: "/media/")!.lowerBound...])
            let fetched = try await server.client.execute(uri: path, method: .get)
            #expect(fetched.status == .ok && fetched.headers[.contentType] == "image/png", "the provider fetches it")
            let forged = path.replacingOccurrences(of: "signature=", with: "signature=x")
            #expect(try await server.client.execute(uri: forged, method: .get).status == .notFound)
            for message in simulated {
                let settled = try await server.callback(
                    "/webhooks/simulator/status?message=\(message.reference)",
                    ["MessageSid": message.providerID, "MessageStatus": "delivered", "NumSegments": "1"]
                )
                #expect(settled.status == .noContent)
            }
            let pool = try await server.pool(org)
            #expect(pool["posted"] as? Double == 0 && pool["pending"] as? Double == 0, "\(pool)")
            let usage = try await server.services.database.read { sql in
                try await sql.raw(
                    "SELECT COUNT(*) AS n, CAST(SUM(posted_amount) AS BIGINT) AS total FROM ledger_holds WHERE status = 'posted'"
                ).first().map {
                    (try $0.decode(column: "n", as: Int.self), try $0.decode(column: "total", as: Int64.self))
                }
            }
            #expect(usage?.0 == 1_000 && usage?.1 == 2_000_000, "1,000 holds posted at 2 credits (2,000 milli) each")
            server.clock.advance(MediaService.linkLifetime + 86_400 + 1)  // the expiry is rounded up to a midnight
            #expect(
                try await server.client.execute(uri: path, method: .get).status == .notFound,
                "the link stops working after it expires"
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func mmsFromACountryWithoutMMSIsRefusedBeforeAnythingIsReserved(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization("Kiwi Kids", country: .nz)
            try await server.fund(org, credits: 100)
            try await server.importContacts(org, phones: ["+64215551234"])
            let id = try #require(try await MediaTests.upload(server, org, MediaTests.png()).object()["id"] as? String)
            let refused = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: try jsonText(["to": ["+64215551234"], "body": "Closed today", "media": [id]])
            )
            #expect(refused.errorCode == "mms_not_available", "\(refused.text)")
            #expect(try await server.pool(org)["pending"] as? Double == 0, "nothing reserved")
            // Allowed by the organisation: the text goes as SMS with a link to the picture.
            let allowed = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"mms_as_link": true}"#
            )
            #expect(allowed.status == .ok, "\(allowed.text)")
            let linked = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: try jsonText(["to": ["+64215551234"], "body": "Closed today", "media": [id]])
            )
            #expect(linked.status == .created, "\(linked.text)")
            #expect(try linked.object()["channel"] as? String == "sms", "priced as SMS")
            while try await server.services.dispatcher.runOnce() > 0 {}
            let sent = try #require(try await server.services.stores.simulator.all().first)
            #expect(sent.body.contains("Closed today\n") && sent.body.contains("/media/\(id)?expires="), "\(sent.body)")
            #expect(sent.mediaURLs.isEmpty)
            let us = try await server.makeOrganization()
            let foreign = try await server.request(
                .post,
                "/v1/messages",
                key: us.ownerKey,
                json: try jsonText(["to": ["+14155550123"], "body": "Hi", "media": [id]])
            )
            #expect(foreign.status == .notFound, "another organisation's media is not found")
        }
    }

    @Test(arguments: stores)
    func anInboundPictureMessageIsFreeAndItsMediaIsKeptAndListed(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello"}"#
            )
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            let digest = try await server.services.media.keepSimulated(Data(MediaTests.png()))
            let received = try await server.callback(
                "/webhooks/simulator/inbound",
                [
                    "MessageSid": "MMinbound1", "From": "+14155550123", "To": number, "Body": "Look at this",
                    "NumMedia": "1", "MediaUrl0": SimulatorProvider.mediaScheme + digest,
                ]
            )
            #expect(received.status == .ok, "\(received.text)")
            let conversations = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            let conversation = try #require(conversations.first?["id"] as? String)
            let thread = try #require(
                try await server.request(.get, "/v1/conversations/\(conversation)", key: org.ownerKey).object()[
                    "messages"
                ] as? [[String: Any]]
            )
            let picture = try #require(thread.first { $0["direction"] as? String == "inbound" })
            #expect(picture["channel"] as? String == "mms" && picture["credits"] as? Double == 0, "received free")
            let ids = try #require(picture["media"] as? [String])
            #expect(ids.count == 1)
            let item = try await server.request(.get, "/v1/media/\(ids[0])?format=json", key: org.ownerKey).object()
            #expect(item["received"] as? Bool == true && item["content_type"] as? String == "image/png")
            #expect(try await server.verifyLedger() == [])
        }
    }
}
