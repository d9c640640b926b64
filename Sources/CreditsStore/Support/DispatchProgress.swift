/// Where the dispatch of a campaign (texts) or a voice broadcast (calls) stands after a
/// dispatcher's round, for the dispatcher's log.
public struct DispatchProgress: Sendable, Equatable {
    /// The campaign's or broadcast's id.
    public let id: String
    /// The id of the request that placed it (nil for work placed before request ids were kept).
    public let requestID: String?
    /// True while some of its texts or calls wait in the queue or are being handed to the provider.
    public let dispatching: Bool

    public init(id: String, requestID: String?, dispatching: Bool) {
        self.id = id
        self.requestID = requestID
        self.dispatching = dispatching
    }
}
