import Logging

extension Logger.Metadata {
    /// This metadata with the `request_id` of the request that caused the work, when one did: a
    /// background job's line about a campaign or a purchase then carries the id the request's
    /// own log lines carried.
    func requestID(_ id: String?) -> Logger.Metadata {
        guard let id else { return self }
        var metadata = self
        metadata["request_id"] = .string(id)
        return metadata
    }
}
