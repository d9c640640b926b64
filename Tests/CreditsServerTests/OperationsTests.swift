import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import Logging
import SQLKit
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What an operator's tools rely on: liveness and readiness, request ids from the request to the
/// background job, and a bounded graceful shutdown.
@Suite struct OperationsTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aMigratedServerIsLiveAndReady(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let live = try await server.request(.get, "/health/live", key: nil)
            #expect(live.status == .ok)
            #expect(try live.object()["status"] as? String == "live")
            let ready = try await server.request(.get, "/health/ready", key: nil)
            #expect(ready.status == .ok, "\(ready.text)")
            #expect(try ready.object()["status"] as? String == "ready")
        }
    }

    @Test(arguments: stores)
    func aDatabaseBehindOnMigrationsIsLiveButNotReady(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            try await server.services.database.transaction { sql in
                try await sql.raw("DELETE FROM schema_migrations WHERE version = \(bind: Migrator.latestVersion)").run()
            }
            let ready = try await server.request(.get, "/health/ready", key: nil)
            #expect(ready.status == .serviceUnavailable)
            let error = try #require(try ready.object()["error"] as? [String: Any])
            #expect(error["code"] as? String == "migrations_behind")
            #expect((error["message"] as? String)?.contains("textcredits migrate") == true)
            #expect(try await server.request(.get, "/health/live", key: nil).status == .ok)
        }
    }

    @Test(arguments: stores)
    func aWellFormedRequestIDIsEchoedAndAMalformedOneReplaced(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let echoed = try await server.request(
                .get,
                "/health/live",
                key: nil,
                headers: ["X-Request-Id": "lb-7f3a.9_X"]
            )
            #expect(echoed.headers[OperationsTests.requestID] == "lb-7f3a.9_X")
            for malformed in ["has space", "semi;colon", String(repeating: "a", count: 65)] {
                let replaced = try await server.request(
                    .get,
                    "/health/live",
                    key: nil,
                    headers: ["X-Request-Id": malformed]
                )
                let id = try #require(replaced.headers[OperationsTests.requestID])
                #expect(id != malformed)
                #expect(RequestID(id) != nil, "the server's own id is well formed: \(id)")
            }
            let made = try await server.request(.get, "/v1/organization", key: nil)
            #expect(made.status == .unauthorized)
            #expect(made.headers[OperationsTests.requestID]?.hasPrefix("req_") == true, "refusals carry one too")
        }
    }

    @Test(arguments: stores)
    func theDispatchersLogOfACampaignCarriesTheRequestThatPlacedIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Pool closed today."}"#,
                headers: ["X-Request-Id": "office-send-42"]
            )
            #expect(sent.status == .created, "\(sent.text)")
            let campaign = try #require(try sent.object()["id"] as? String)

            let logs = CapturedLogs()
            let dispatcher = Dispatcher(
                messages: server.services.stores.messages,
                contacts: server.services.stores.contacts,
                provider: server.services.provider,
                rateLimiter: RateLimiter(perSecond: 100),
                settlement: server.services.settlement,
                media: server.services.media,
                callbackBaseURL: { server.services.baseURL },
                now: { server.clock.now },
                logger: Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
            )
            #expect(try await dispatcher.runOnce(limit: 1) == 1)
            #expect(logs.lines(containing: "campaign dispatched").isEmpty, "one text still waits")
            // The recipient still waiting opts out before their text goes: it fails at dispatch.
            let waiting = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw(
                        "SELECT to_number FROM messages WHERE campaign_id = \(bind: campaign) AND status = 'queued'"
                    ).first()
                }
            )
            let stopped = try await server.inbound(
                org,
                from: try waiting.decode(column: "to_number", as: String.self),
                "STOP"
            )
            #expect(stopped.status.code < 300, "\(stopped.text)")
            while try await dispatcher.runOnce() > 0 {}
            let failed = try #require(logs.lines(containing: "campaign texts failed").first)
            #expect(failed.metadata["campaign"] == .string(campaign))
            #expect(failed.metadata["reasons"] == .string("opted_out"))
            #expect(failed.metadata["failed"] == .string("1"))
            #expect(failed.metadata["request_id"] == .string("office-send-42"))
            let done = try #require(logs.lines(containing: "campaign dispatched").first)
            #expect(done.metadata["campaign"] == .string(campaign))
            #expect(done.metadata["request_id"] == .string("office-send-42"))
            #expect(logs.lines(containing: "campaign dispatched").count == 1)
        }
    }

    @Test(arguments: stores)
    func theCallDispatchersLogOfABroadcastCarriesTheRequestThatPlacedIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 100)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"], group: "members")
            let sent = try await server.request(
                .post,
                "/v1/voice/broadcasts",
                key: org.ownerKey,
                json:
                    #"{"groups": ["members"], "say": {"text": "Choir practice is at seven tonight."}, "override_sending_hours": true}"#,
                headers: ["X-Request-Id": "office-call-7"]
            )
            #expect(sent.status == .created, "\(sent.text)")
            let broadcast = try #require(try sent.object()["id"] as? String)

            let logs = CapturedLogs()
            let dispatcher = CallDispatcher(
                calls: server.services.stores.calls,
                contacts: server.services.stores.contacts,
                provider: server.services.provider,
                settlement: server.services.callSettlement,
                callbackBaseURL: { server.services.baseURL },
                now: { server.clock.now },
                logger: Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
            )
            while try await dispatcher.runOnce() > 0 {}
            let done = try #require(logs.lines(containing: "broadcast dispatched").first)
            #expect(done.metadata["broadcast"] == .string(broadcast))
            #expect(done.metadata["request_id"] == .string("office-call-7"))
        }
    }

    @Test(arguments: stores)
    func theReconciliationsLogOfAPurchaseCarriesTheRequestThatMadeIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            // The Sandbox takes the money for this card but its answer is lost: reconciliation finishes it.
            try await BillingTests.putCard(server, org, "4000 0000 0000 0077")
            let lost = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100}"#,
                headers: ["Idempotency-Key": "storm", "X-Request-Id": "office-buy-9"]
            )
            #expect(lost.errorCode == "payment_unconfirmed", "\(lost.text)")

            let logs = CapturedLogs()
            let services = server.services
            let billing = BillingService(
                store: services.stores.billing,
                database: services.database,
                ledgerStore: services.stores.ledger,
                credits: services.credits,
                organizations: services.stores.organizations,
                gateway: services.gateway,
                creditPrices: services.configuration.creditPrices,
                seller: services.configuration.seller,
                catalogue: services.stores.catalogue,
                facts: services.facts,
                now: { server.clock.now },
                logger: Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
            )
            server.clock.advance(BillingService.reconcileAfter + 1)
            #expect(try await billing.reconcile() == 1)
            let line = try #require(logs.lines(containing: "purchase reconciled").first)
            #expect(line.metadata["status"] == .string("succeeded"))
            #expect(line.metadata["request_id"] == .string("office-buy-9"))
        }
    }

    static let requestID = HTTPField.Name("X-Request-Id")!
}

/// The log lines a test's logger received.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        let message: String
        let metadata: Logger.Metadata
    }

    private let lines = Mutex<[Line]>([])

    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    func lines(containing text: String) -> [Line] { lines.withLock { $0.filter { $0.message.contains(text) } } }
}

/// A log handler that keeps every line for the test to read.
struct CapturingLogHandler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        logs.append(
            CapturedLogs.Line(
                message: event.message.description,
                metadata: self.metadata.merging(event.metadata ?? [:]) { $1 }
            )
        )
    }
}

/// A real `textcredits serve` told to stop.
@Suite struct ShutdownProcessTests {
    @Test func theShutdownBoundIsReadFromTheFlagOrTheEnvironment() throws {
        #expect(
            try AppConfiguration(reading: AppConfiguration.reader(flags: [:], environment: [:])).shutdownTimeout
                == .seconds(30)
        )
        let environment = ["TEXTCREDITS_SHUTDOWN_TIMEOUT": "45"]
        #expect(
            try AppConfiguration(reading: AppConfiguration.reader(flags: [:], environment: environment)).shutdownTimeout
                == .seconds(45)
        )
        let flag = AppConfiguration.reader(flags: ["shutdown_timeout": "5"], environment: environment)
        #expect(try AppConfiguration(reading: flag).shutdownTimeout == .seconds(5), "the flag wins")
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration(reading: AppConfiguration.reader(flags: ["shutdown_timeout": "0"], environment: [:]))
        }
    }

    @Test func sigtermStopsTheServerWithinItsBoundAndSaysSo() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stop-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let port = HTTP.freePort()
        let server = try RunningTool(
            ["serve", "--database", "sqlite:\(path)", "--port", "\(port)"],
            environment: ["TEXTCREDITS_SHUTDOWN_TIMEOUT": "3"]
        )
        let up = await HTTP.waitUntilUp("http://127.0.0.1:\(port)/health/ready")
        #expect(up, "the server did not come up")
        let asked = Date()
        let stopped = await server.stop(signal: SIGTERM, within: 3 + 5)
        let took = Date().timeIntervalSince(asked)
        let printed = server.printed()
        #expect(stopped?.reason == .exit)
        #expect(stopped?.status == 0, "graceful shutdown exits 0: \(printed)")
        #expect(took < 3 + 5, "stopped within the bound and the cancellation grace (\(took) s)")
        #expect(printed.contains("bound_seconds=3"), "\(printed)")
        #expect(printed.contains("shutdown: finishing in-flight requests"))
        #expect(printed.contains("shutdown complete"))
    }

    @Test func aRequestInFlightFinishesDuringTheShutdown() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drain-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let port = HTTP.freePort()
        let server = try RunningTool([
            "serve", "--database", "sqlite:\(path)", "--port", "\(port)", "--shutdown-timeout", "20",
        ])
        #expect(await HTTP.waitUntilUp("http://127.0.0.1:\(port)/health/ready"), "the server did not come up")
        let (head, body) = ShutdownProcessTests.upload(key: try await ShutdownProcessTests.key(path))
        // The upload's head and the start of its body arrive; the rest only after SIGTERM.
        let upload = try ShutdownProcessTests.connect(port: port, sending: head + String(body.prefix(10)))
        defer { close(upload) }
        try await Task.sleep(for: .seconds(1))
        async let stopped = server.stop(signal: SIGTERM, within: 20)
        try await Task.sleep(for: .milliseconds(500))
        ShutdownProcessTests.send(upload, String(body.dropFirst(10)))
        let answer = ShutdownProcessTests.answer(upload)
        let status = await stopped
        let printed = server.printed()
        #expect(answer.hasPrefix("HTTP/1.1 201"), "the request in flight was answered: \(answer.prefix(200))")
        #expect(status?.status == 0, "\(printed)")
        #expect(printed.contains("shutdown complete") && !printed.contains("after the bound"), "\(printed)")
    }

    @Test func aRequestStillInFlightAtTheBoundIsCancelledAndTheServerStillExitsZero() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bound-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let port = HTTP.freePort()
        let server = try RunningTool([
            "serve", "--database", "sqlite:\(path)", "--port", "\(port)", "--shutdown-timeout", "2",
        ])
        #expect(await HTTP.waitUntilUp("http://127.0.0.1:\(port)/health/ready"), "the server did not come up")
        let (head, body) = ShutdownProcessTests.upload(key: try await ShutdownProcessTests.key(path))
        // An upload whose body never finishes: its handler waits for the rest.
        let upload = try ShutdownProcessTests.connect(port: port, sending: head + String(body.prefix(10)))
        defer { close(upload) }
        try await Task.sleep(for: .seconds(1))
        let asked = Date()
        let stopped = await server.stop(signal: SIGTERM, within: 2 + 5 + 1)
        let took = Date().timeIntervalSince(asked)
        let printed = server.printed()
        #expect(stopped?.status == 0, "exits 0 after cancelling: \(printed)")
        #expect(took >= 1.5 && took < 2 + 5, "waited for the request up to the bound, no longer (\(took) s)")
        #expect(printed.contains("shutdown complete after the bound"), "\(printed)")
    }

    /// An organisation's key, made with the CLI on a running server's database.
    static func key(_ path: String) async throws -> String {
        let created = try await CommandLineTool.run([
            "orgs", "create", "--name", "Slow Upload Club", "--country", "US", "--timezone", "America/Chicago",
            "--json", "--database", "sqlite:\(path)",
        ])
        let object = try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any]
        return try #require(object?["api_key"] as? String, "\(created.standardError)")
    }

    /// An import of one contact as bytes: the request's head, and its body.
    static func upload(key: String) -> (head: String, body: String) {
        let body = #"{"consent": "opted_in", "contacts": [{"name": "Ana Ortiz", "phone": "+14155552671"}]}"#
        let head =
            "POST /v1/contacts/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return (head, body)
    }

    /// Opens a connection to the server and sends `text`.
    static func connect(port: Int, sending text: String) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard descriptor >= 0, connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        // Reading the answer blocks a thread: at most this long.
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        send(descriptor, text)
        return descriptor
    }

    static func send(_ descriptor: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(descriptor, $0, strlen($0), 0) }
    }

    /// What the server answered on a connection, until it closed it.
    static func answer(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
