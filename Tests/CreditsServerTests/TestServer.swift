import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

/// A server over a fresh test database with an injected clock, driven through HummingbirdTesting.
struct TestServer: Sendable {
    let services: AppServices
    let client: any TestClientProtocol
    let clock: TestClock

    /// Waits (up to `seconds`) until `condition` holds, checking every 50 ms.
    func eventually(_ seconds: Double = 30, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Runs `body` against a new server on `store`.
    /// With `live`, the server listens on a free port and runs its workers (dispatch, Simulator
    /// callbacks over HTTP, settlement); otherwise requests go straight to the router.
    static func with(
        _ store: TestDatabase,
        live: Bool = false,
        configure: @Sendable (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (TestServer) async throws -> Void
    ) async throws {
        try await ServerSlots.run { try await with(store, live: live, configure: configure, now: body) }
    }

    private static func with(
        _ store: TestDatabase,
        live: Bool,
        configure: @Sendable (inout AppConfiguration) -> Void,
        now body: @escaping @Sendable (TestServer) async throws -> Void
    ) async throws {
        try await store.with { database, url in
            var configuration = AppConfiguration()
            configuration.database = url
            configuration.runsWorkers = live
            configuration.pollInterval = .milliseconds(20)
            let clock = TestClock()
            var logger = Logger(label: "textcredits.test")
            logger.logLevel = .error
            configuration.simulatorDelay = .milliseconds(5)
            configuration.simulatorRegistrationDelay = 2
            configure(&configuration)
            let services = try await AppServices.build(
                configuration: configuration,
                database: database,
                now: { clock.now },
                logger: logger
            )
            let application = buildApplication(services: services)
            try await application.test(live ? .live : .router) { client in
                try await body(TestServer(services: services, client: client, clock: clock))
            }
        }
    }

    /// An organisation with its owner's key.
    struct Org: Sendable {
        let id: OrganizationID
        let ownerKey: String
        let ownerID: String
    }

    func makeOrganization(_ name: String = "Bright Stars Gym", country: Country = .us, mode: CreditMode = .shared)
        async throws -> Org
    {
        let created = try await services.administration.createOrganization(
            name: name,
            country: country,
            timeZone: "America/Chicago",
            creditMode: mode,
            ownerName: "Olive Owner",
            ownerEmail: "owner@\(AdministrationService.accountName(name)).example",
            ownerPassword: "correct horse battery",
            actor: .system
        )
        return Org(id: created.organization.id, ownerKey: created.apiKey, ownerID: created.owner.id)
    }

    /// Adds operator credits to an organisation's pool.
    func fund(_ org: Org, credits: Int64) async throws {
        _ = try await services.credits.adjust(
            org.id,
            credits: Credits(credits: credits),
            reason: "test credits",
            actor: .system
        )
    }

    /// Sends a request and returns the response.
    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String?,
        json: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if let key { fields[.authorization] = "Bearer \(key)" }
        if json != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        return try await client.execute(
            uri: uri,
            method: method,
            headers: fields,
            body: json.map { ByteBuffer(string: $0) }
        )
    }

    /// A staff member with their own key.
    func addStaff(
        _ org: Org,
        role: Role,
        email: String = "staff\(UUID().uuidString.prefix(6))@example.com",
        permissions: [Permission]? = nil
    ) async throws -> (id: String, key: String) {
        var body: [String: Any] = ["name": "Sam \(role.rawValue)", "email": email, "role": role.rawValue]
        if let permissions { body["permissions"] = permissions.map(\.rawValue) }
        let created = try await request(.post, "/v1/staff", key: org.ownerKey, json: try jsonText(body))
        #expect(created.status == .created, "\(created.text)")
        let id = try created.object()["id"] as? String ?? ""
        let key = try await request(
            .post,
            "/v1/api-keys",
            key: org.ownerKey,
            json: try jsonText(["name": "key for \(id)", "staff_id": id])
        )
        return (id, try key.object()["api_key"] as? String ?? "")
    }
}

/// At most a few test servers run at once. Swift Testing starts every test together; some three
/// hundred servers on two cores starved each other's requests past HummingbirdTesting's fixed
/// 20-second read timeout for live servers. A test that waits for a slot is not timed.
actor ServerSlots {
    static let shared = ServerSlots(count: 10)
    /// Set inside a slot, so a test that starts a second server does not wait for itself.
    @TaskLocal static var held = false

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }

    static func run(_ body: () async throws -> Void) async throws {
        if held { return try await body() }
        await shared.acquire()
        do {
            try await $held.withValue(true) { try await body() }
        } catch {
            await shared.release()
            throw error
        }
        await shared.release()
    }
}

/// A settable clock for tests.
final class TestClock: @unchecked Sendable {
    // Safe: every access goes through `lock`.
    private let lock = NSLock()
    private var instant = Date(timeIntervalSince1970: 1_795_000_000)

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return instant
    }

    func advance(_ seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        instant = instant.addingTimeInterval(seconds)
    }

    func set(_ date: Date) {
        lock.lock()
        defer { lock.unlock() }
        instant = date
    }
}

func jsonText(_ object: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

extension TestResponse {
    var text: String { body.getString(at: body.readerIndex, length: body.readableBytes) ?? "" }

    func object() throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            "not a JSON object: \(text)"
        )
    }

    func list() throws -> [[String: Any]] {
        try #require(try object()["data"] as? [[String: Any]], "no data list: \(text)")
    }

    var errorCode: String? { (try? object()["error"] as? [String: Any])?["code"] as? String }
    var errorField: String? { (try? object()["error"] as? [String: Any])?["field"] as? String }
}
