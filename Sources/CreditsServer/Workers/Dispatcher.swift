import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import ServiceLifecycle

/// Hands queued messages to the provider: claims a batch (disjoint across servers), checks
/// consent again at the last moment, sends with a per-number rate limit, and records each
/// result; failures release their holds, temporary errors retry with backoff.
public struct Dispatcher: Sendable {
    let services: AppServices
    /// Messages claimed per round.
    public static let batchSizeMax = 256
    /// How long a claim lasts before another dispatcher may take the message over.
    static let lease: TimeInterval = 120
    /// Attempts before a message fails for good.
    static let attemptsMax = 8

    public init(services: AppServices) { self.services = services }

    /// One round; returns how many messages it handled.
    @discardableResult
    public func runOnce(limit: Int = Dispatcher.batchSizeMax) async throws -> Int {
        let now = services.now()
        let claimed = try await services.messages.claim(limit: limit, now: now, leaseUntil: now.addingTimeInterval(Dispatcher.lease))
        guard !claimed.isEmpty else { return 0 }
        let optedOut = try await optedOutNumbers(claimed)
        let results = await withTaskGroup(of: (String, DispatchResult).self) { group in
            var collected: [(id: String, result: DispatchResult)] = []
            var inFlight = 0
            for message in claimed {
                if inFlight >= services.provider.sendConcurrencyMax, let done = await group.next() {
                    collected.append(done)
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    if message.holdID != nil, optedOut.contains("\(message.organizationID.rawValue)|\(message.to)") {
                        return (message.id, .failed(code: "opted_out", message: "The recipient opted out before this message was sent."))
                    }
                    return (message.id, await send(message))
                }
            }
            for await done in group { collected.append(done) }
            return collected
        }
        try await services.messages.record(results, at: services.now())
        return claimed.count
    }

    /// Numbers that opted out, as "organisation|phone".
    func optedOutNumbers(_ messages: [ClaimedMessage]) async throws -> Set<String> {
        var result = Set<String>()
        for (organization, group) in Dictionary(grouping: messages.filter { $0.holdID != nil }, by: \.organizationID) {
            for row in try await services.contacts.recipients(organization, phones: Array(Set(group.map(\.to)))) where row.consent == .optedOut {
                result.insert("\(organization.rawValue)|\(row.phone)")
            }
        }
        return result
    }

    func send(_ message: ClaimedMessage) async -> DispatchResult {
        await services.rateLimiter.acquire(message.from)
        let outbound = OutboundSMS(reference: message.id, from: message.from, to: message.to, body: message.body, channel: message.channel,
                                   statusCallback: "\(services.baseURL)/webhooks/\(services.provider.name)/status?message=\(message.id)",
                                   isRetry: message.retry || message.attempts > 1)
        do {
            let accepted = try await services.provider.send(outbound)
            return .sent(providerID: accepted.providerID, segments: accepted.segments)
        } catch {
            if error.isPermanent { return .failed(code: error.code, message: error.message) }
            if message.attempts >= Dispatcher.attemptsMax {
                return .failed(code: "retries_exhausted", message: "Not sent after \(message.attempts) attempts: \(error.message)")
            }
            let backoff = min(300, pow(2, Double(message.attempts)))
            return .retry(at: services.now().addingTimeInterval(backoff), error: "\(error.code): \(error.message)")
        }
    }
}

/// Runs the dispatcher until shutdown. Shutdown cancels the loop, which then simply ends.
struct DispatchService: Service {
    let services: AppServices

    func run() async throws {
        let dispatcher = Dispatcher(services: services)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await dispatcher.runOnce() == 0 { try? await Task.sleep(for: services.configuration.pollInterval) }
                } catch {
                    guard !Task.isCancelled else { return }
                    services.logger.error("dispatch round failed", metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}

/// Keeps planner statistics fresh, applies hold timeouts, reclaims abandoned claims, makes due
/// auto-renew purchases, grants plan cycles, expires lots, settles purchases a crash left pending, polls registrations and
/// forgets expired portal sessions, until shutdown.
struct MaintenanceService: Service {
    let services: AppServices

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var tick = 0
            while !Task.isCancelled {
                do {
                    try await services.database.refreshStatistics()
                    try await services.messages.reclaimExpiredLeases(now: services.now())
                    try await services.registration.poll()
                    try await services.autoRenew.runDue()
                    try await services.plans.runCycles()
                    try await services.plans.runExpiry()
                    try await services.alerts.deliverQueued()
                    if tick % 10 == 0 {
                        try await services.settlement.timeOutHolds()
                        try await services.billing.reconcile()
                        _ = try await WebSessionStore(database: services.database).deleteExpired(before: services.now())
                    }
                } catch {
                    guard !Task.isCancelled else { return }
                    services.logger.error("maintenance round failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                tick += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Delivers the Simulator's callbacks until shutdown.
struct SimulatorService: Service {
    let simulator: SimulatorProvider

    func run() async throws {
        await cancelWhenGracefulShutdown { await simulator.run() }
    }
}
