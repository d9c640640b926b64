import CreditsStore
import Logging

/// The dispatchers' log lines about the campaigns (texts) and voice broadcasts (calls) a round
/// touched: how many failed for good and why, and, once nothing of one waits any more, that its
/// dispatch is done. Each line carries the id of the request that placed it (`request_id`).
struct DispatchLog {
    /// "campaign" or "broadcast".
    let noun: String
    /// "texts" or "calls".
    let items: String
    let logger: Logger

    /// Reports a round: `groupOf` maps each handled item to its campaign or broadcast (items
    /// outside one are left out), `failures` are the items that failed for good with their code,
    /// and `progress` reads the groups' progress in one query.
    func report(
        groupOf: [String: String],
        failures: [(id: String, code: String)],
        progress: (Set<String>) async throws -> [DispatchProgress]
    ) async {
        guard !groupOf.isEmpty else { return }
        var failed: [String: [String: Int]] = [:]
        for (id, code) in failures {
            if let group = groupOf[id] { failed[group, default: [:]][code, default: 0] += 1 }
        }
        let groups: [DispatchProgress]
        do {
            groups = try await progress(Set(groupOf.values))
        } catch {
            logger.warning("\(noun) progress not read", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for group in groups {
            if let reasons = failed[group.id] {
                logger.warning(
                    "\(noun) \(items) failed",
                    metadata: [
                        noun: "\(group.id)", "failed": "\(reasons.values.reduce(0, +))",
                        "reasons": "\(reasons.keys.sorted().joined(separator: ","))",
                    ].requestID(group.requestID)
                )
            }
            if !group.dispatching {
                logger.info("\(noun) dispatched", metadata: [noun: "\(group.id)"].requestID(group.requestID))
            }
        }
    }
}
