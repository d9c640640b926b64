/// Where an outbound message stands (DESIGN §3 lifecycle):
/// queued → sending → sent → delivered | undelivered | failed | canceled.
public enum MessageStatus: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable {
    /// Waiting to be dispatched (now, at its scheduled time, or when the sending window opens).
    case queued
    /// Claimed by a dispatcher and being handed to the provider.
    case sending
    /// Accepted by the provider; waiting for the carrier's delivery report.
    case sent
    /// The carrier delivered it (charged).
    case delivered
    /// The carrier could not deliver it (charged, as the seed says).
    case undelivered
    /// The provider refused or lost it (not charged).
    case failed
    /// Canceled before it was sent (not charged).
    case canceled
    /// An inbound text (free).
    case received

    /// Statuses a message never leaves.
    public var isFinal: Bool {
        switch self {
        case .delivered, .undelivered, .failed, .canceled, .received: true
        case .queued, .sending, .sent: false
        }
    }

    /// Order along the lifecycle; a message only moves forward.
    var rank: Int {
        switch self {
        case .queued: 0
        case .sending: 1
        case .sent: 2
        case .delivered, .undelivered, .failed, .canceled, .received: 3
        }
    }

    /// What settling a message in this final status does to its hold.
    public var settlement: Settlement? {
        switch self {
        case .delivered, .undelivered: .post
        case .failed, .canceled: .void
        case .queued, .sending, .sent, .received: nil
        }
    }

    /// Whether a report of `next` moves a message that is `self` forward. Reports may repeat or
    /// arrive out of order: anything that is not forward is ignored, and a final status is kept.
    public func accepts(_ next: MessageStatus) -> Bool {
        guard !isFinal, next != self else { return false }
        return next.rank > rank
    }

    /// The seed-facing word for statuses ("Delivered", "Undelivered" …).
    public var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}

/// What a final status does to the message's hold.
public enum Settlement: String, Sendable, Codable {
    /// Charge it (delivered and undelivered messages are billed).
    case post
    /// Release it (failed and canceled messages are free).
    case void
}

/// The credits to charge for a settled message: the provider's segment count at the channel's
/// price, never more than was held (the estimate is the charge) and never less than zero.
public enum SettlementCharge {
    public static func credits(held: Credits, providerSegments: Int?, channel: Channel, prices: PriceList) -> Credits {
        guard let providerSegments, providerSegments > 0 else { return held }
        return min(held, prices.text(channel: channel, segments: providerSegments))
    }
}
