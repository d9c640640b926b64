import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Places queued calls with the provider: claims a batch (disjoint across servers, with a lease),
/// checks the recipient's opt-out again at the last moment, places each call with its time limit,
/// and records the results through settlement. A call interrupted by a crash is re-placed as a
/// retry, which finds the earlier call instead of ringing again.
public struct CallDispatcher: Sendable {
    let calls: CallStore
    let contacts: ContactStore
    let provider: any SMSProvider
    let settlement: CallSettlementService
    let callbackBaseURL: @Sendable () -> String
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        calls: CallStore,
        contacts: ContactStore,
        provider: any SMSProvider,
        settlement: CallSettlementService,
        callbackBaseURL: @escaping @Sendable () -> String,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.logger = logger
        self.calls = calls
        self.contacts = contacts
        self.provider = provider
        self.settlement = settlement
        self.callbackBaseURL = callbackBaseURL
        self.now = now
    }

    public static let batchSizeMax = 256
    static let lease: TimeInterval = 120

    /// One round; returns how many calls it handled.
    @discardableResult
    public func runOnce(limit: Int = CallDispatcher.batchSizeMax) async throws -> Int {
        let instant = now()
        let claimed = try await calls.claim(
            limit: limit,
            now: instant,
            leaseUntil: instant.addingTimeInterval(Self.lease)
        )
        guard !claimed.isEmpty else { return 0 }
        let refused = try await Dispatcher.optedOut(
            claimed.filter { $0.call.kind == .broadcast }.map {
                Dispatcher.Recipient(organization: $0.call.organizationID, phone: $0.call.to)
            },
            contacts: contacts
        )
        let results = await withTaskGroup(of: (String, CallDispatchResult).self) { group in
            var collected: [(id: String, result: CallDispatchResult)] = []
            var inFlight = 0
            for (call, retry) in claimed {
                if inFlight >= provider.sendConcurrencyMax, let done = await group.next() {
                    collected.append(done)
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    if refused.contains(Dispatcher.Recipient(organization: call.organizationID, phone: call.to)) {
                        return (
                            call.id,
                            .failed(code: "opted_out", message: "The recipient opted out before this call was placed.")
                        )
                    }
                    return (call.id, await place(call, retry: retry))
                }
            }
            for await done in group { collected.append(done) }
            return collected
        }
        try await settlement.record(results)
        await logBroadcasts(claimed.map(\.call), results)
        return claimed.count
    }

    /// Logs the broadcasts a round touched (`DispatchLog`): one query a round, none for calls
    /// outside broadcasts.
    func logBroadcasts(_ claimed: [Call], _ results: [(id: String, result: CallDispatchResult)]) async {
        var broadcastOf: [String: String] = [:]
        for call in claimed { if let broadcast = call.broadcastID { broadcastOf[call.id] = broadcast } }
        let failures = results.compactMap { id, result -> (id: String, code: String)? in
            if case .failed(let code, _) = result { (id, code) } else { nil }
        }
        await DispatchLog(noun: "broadcast", items: "calls", logger: logger).report(
            groupOf: broadcastOf,
            failures: failures,
            progress: calls.progress(ofBroadcasts:)
        )
    }

    /// Puts calls whose dispatcher died back in the queue as retries; returns how many.
    @discardableResult
    public func reclaimExpiredLeases() async throws -> Int { try await calls.reclaimExpiredLeases(now: now()) }

    func place(_ call: Call, retry: Bool) async -> CallDispatchResult {
        let base = callbackBaseURL()
        let outbound = OutboundCall(
            reference: call.id,
            from: call.from,
            // Click-to-call rings the staff member first; the TwiML then dials the contact.
            to: call.kind == .outgoing ? (call.staffPhone ?? call.to) : call.to,
            timeLimit: call.kind == .outgoing ? call.timeLimit + CallDispatcher.ringAllowance : call.timeLimit,
            machineDetection: call.machineDetection,
            answerURL: "\(base)/webhooks/\(provider.name)/voice/answer?call=\(call.id)",
            statusCallback: "\(base)/webhooks/\(provider.name)/voice/status?call=\(call.id)",
            expectedSeconds: max(1, call.timeLimit),
            isRetry: retry || call.attempts > 1,
            queuedAt: call.createdAt
        )
        do {
            return .placed(providerID: try await provider.placeCall(outbound))
        } catch {
            if error.isPermanent { return .failed(code: error.code, message: error.message) }
            switch DispatchRetry.decision(afterAttempt: call.attempts, at: now()) {
            case .retry(let at): return .retry(at: at, error: "\(error.code): \(error.message)")
            case .giveUp:
                return .failed(
                    code: "retries_exhausted",
                    message: "Not placed after \(call.attempts) attempts: \(error.message)"
                )
            }
        }
    }

    /// Click-to-call: time for the staff member to answer and the contact's phone to ring, on top
    /// of the connected minutes (which alone are charged and limited by `<Dial timeLimit>`).
    public static let ringAllowance = 60
}
