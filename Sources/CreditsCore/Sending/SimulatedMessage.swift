/// A message the Simulator accepted, kept durably so a retried send is recognised.
public struct SimulatedMessage: Sendable, Equatable {
    public var reference: String
    public var providerID: String
    public var from: String
    public var to: String
    public var body: String
    /// The status its callback reports.
    public var outcome: MessageStatus
    public var errorCode: String?
    public var segments: Int
    public var statusCallback: String
    /// How many times it was handed over (more than 1 only for retries after a crash).
    public var attempts: Int
    /// The links it was given to fetch a picture message's media from.
    public var mediaURLs: [String] = []

    public init(
        reference: String,
        providerID: String,
        from: String,
        to: String,
        body: String,
        outcome: MessageStatus,
        errorCode: String?,
        segments: Int,
        statusCallback: String,
        attempts: Int
    ) {
        self.reference = reference
        self.providerID = providerID
        self.from = from
        self.to = to
        self.body = body
        self.outcome = outcome
        self.errorCode = errorCode
        self.segments = segments
        self.statusCallback = statusCallback
        self.attempts = attempts
    }
}
