import CreditsCore
import CreditsStore
import Crypto
import Foundation
import Synchronization

/// An uploaded or received media item as the API shows it.
public struct MediaView: Encodable, Sendable {
    public var id: String
    public var filename: String
    public var contentType: String
    public var size: Int
    public var image: Bool
    public var received: Bool
    public var createdAt: Date
    /// Where staff fetch it (the API with a key, or the portal with a session).
    public var url: String
    /// What a sender should know (an image big enough that some carriers shrink or drop it).
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case id, filename, size, image, received, url, warnings
        case contentType = "content_type"
        case createdAt = "created_at"
    }

    init(_ item: MediaItem) {
        id = item.id
        filename = item.filename
        contentType = item.kind.contentType
        size = item.size
        image = item.kind.isImage
        received = item.received
        createdAt = item.createdAt
        url = "/v1/media/\(item.id)"
        warnings = []
        if item.kind.isImage, item.size > MediaLimits.carrierFriendlyImageBytes {
            let kilobytes = (item.size + 1023) / 1024
            warnings.append(
                "This picture is \(kilobytes) KB: some carriers shrink or drop pictures over 600 KB, so a smaller copy reaches more phones."
            )
        }
    }
}

/// Media texts carry: uploads checked by their bytes (not their name) and kept once per content
/// in the database, each organisation's items, and links the provider fetches them from — signed
/// and expiring, so nobody can guess or keep one.
public struct MediaService: Sendable {
    let store: MediaStore
    let secrets: NumberStore
    /// The server's public base URL, for links recipients open.
    let baseURL: @Sendable () -> String
    let now: @Sendable () -> Date
    /// The signing key, read from the database once per process (it never changes once made),
    /// not once per message a campaign hands over.
    let signingKey = SigningKeyCache()

    /// How long a link handed to the provider works (it fetches at sending, retries for hours).
    public static let linkLifetime: TimeInterval = 48 * 3600
    /// How long a link sent to recipients in place of a picture works.
    public static let recipientLinkLifetime: TimeInterval = 30 * 86_400

    public init(
        store: MediaStore,
        secrets: NumberStore,
        baseURL: @escaping @Sendable () -> String,
        now: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.secrets = secrets
        self.baseURL = baseURL
        self.now = now
    }

    /// A link recipients open to see a picture sent by SMS where MMS does not go: it works for
    /// 30 days from `start` (when the text goes out).
    public func recipientLink(_ id: String, from start: Date) async throws -> String {
        let lifetime = start.timeIntervalSince(now()) + MediaService.recipientLinkLifetime
        return baseURL() + (try await signedPath(id, lifetime: lifetime))
    }

    /// `POST /v1/media`: refuses an empty file, one over 5 MB, or anything carriers do not take.
    public func upload(_ principal: Principal, filename: String?, bytes: Data) async throws -> MediaView {
        try await keep(
            bytes,
            filename: filename,
            organization: principal.organizationID,
            received: false,
            by: principal.actor.reference
        )
    }

    /// Keeps media received with an inbound text (checked as uploads are).
    public func keepReceived(_ bytes: Data, organization: OrganizationID) async throws -> MediaView {
        try await keep(bytes, filename: nil, organization: organization, received: true, by: "inbound")
    }

    func keep(_ bytes: Data, filename: String?, organization: OrganizationID, received: Bool, by actor: String)
        async throws -> MediaView
    {
        guard !bytes.isEmpty else { throw MediaError.empty }
        guard bytes.count <= MediaLimits.bytesPerMessage else { throw MediaError.tooLarge(bytes: bytes.count) }
        guard let kind = MediaKind.sniff(bytes) else { throw MediaError.unsupported }
        let digest = MediaService.digest(bytes)
        let name = MediaService.cleanName(filename, kind: kind)
        let item = MediaItem(
            id: Identifier.make("med_"),
            organizationID: organization,
            sha256: digest,
            filename: name,
            kind: kind,
            size: bytes.count,
            received: received,
            createdBy: actor,
            createdAt: now()
        )
        try await store.save(item, bytes: bytes)
        return MediaView(item)
    }

    /// Keeps bytes as the Simulator's provider side holds a received picture, returning their
    /// SHA-256 (`textcredits simulate inbound --media FILE`); refused as uploads are.
    public func keepSimulated(_ bytes: Data) async throws -> String {
        guard !bytes.isEmpty else { throw MediaError.empty }
        guard bytes.count <= MediaLimits.bytesPerMessage else { throw MediaError.tooLarge(bytes: bytes.count) }
        guard let kind = MediaKind.sniff(bytes) else { throw MediaError.unsupported }
        let digest = MediaService.digest(bytes)
        try await store.saveBytes(bytes, sha256: digest, kind: kind, at: now())
        return digest
    }

    /// The SHA-256 media bytes are kept under.
    public static func digest(_ bytes: Data) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A file name safe to show and to send as a download name.
    static func cleanName(_ name: String?, kind: MediaKind) -> String {
        let base = (name ?? "").split(separator: "/").last.map(String.init) ?? ""
        let kept = String(
            base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "\\" }.prefix(200)
        )
        return kept.trimmingCharacters(in: .whitespaces).isEmpty ? "\(kind.rawValue)-file" : kept
    }

    /// `GET /v1/media/{id}`: an item of the principal's organisation, with its bytes.
    public func content(_ principal: Principal, _ id: String) async throws -> (MediaView, Data) {
        guard let item = try await store.item(id, of: principal.organizationID),
            let bytes = try await store.bytes(item.sha256)
        else { throw NotFoundError("This media item") }
        return (MediaView(item), bytes)
    }

    /// Items of an organisation in the order given, refusing another's and too much in all.
    public func items(_ ids: [String], of organization: OrganizationID) async throws -> [MediaItem] {
        guard ids.count <= MediaLimits.itemsPerMessage else { throw MediaError.tooMany(ids.count) }
        var items: [MediaItem] = []
        for id in ids {
            guard let item = try await store.item(id, of: organization) else { throw MediaError.unknown(id) }
            items.append(item)
        }
        let total = items.reduce(0) { $0 + $1.size }
        guard total <= MediaLimits.bytesPerMessage else { throw MediaError.tooLarge(bytes: total) }
        return items
    }

    /// The link the provider fetches an item from: `/media/ID?expires=…&signature=…`. The expiry
    /// is rounded up to the next midnight UTC, so every text of a campaign names the same URL
    /// (the provider caches per URL) and a link never works less than `lifetime`.
    public func signedPath(_ id: String, lifetime: TimeInterval = MediaService.linkLifetime) async throws -> String {
        let exact = Int64((now().timeIntervalSince1970 + lifetime).rounded(.up))
        let expires = (exact + 86_399) / 86_400 * 86_400
        let signature = try await sign("\(id).\(expires)")
        return "/media/\(id)?expires=\(expires)&signature=\(signature)"
    }

    /// The item and bytes a signed link names, or nil when the link is wrong or has expired.
    public func signedContent(_ id: String, expires: String?, signature: String?) async throws -> (MediaView, Data)? {
        guard let expires, let seconds = Int64(expires), let signature,
            Double(seconds) > now().timeIntervalSince1970
        else { return nil }
        let expected = try await sign("\(id).\(seconds)")
        guard APIKeys.constantTimeEqual(expected, signature), let item = try await store.item(id),
            let bytes = try await store.bytes(item.sha256)
        else { return nil }
        return (MediaView(item), bytes)
    }

    func sign(_ text: String) async throws -> String {
        let secret: String
        if let cached = signingKey.value.withLock({ $0 }) {
            secret = cached
        } else {
            secret = try await secrets.secret("media_signing_key", orCreate: APIKeys.randomText(bytes: 32), at: now())
            signingKey.value.withLock { $0 = secret }
        }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// The media signing key once read (every process reads the same stored key).
final class SigningKeyCache: Sendable {
    let value = Mutex<String?>(nil)
}

/// Why media was refused.
public enum MediaError: DomainError, Equatable {
    case empty
    case tooLarge(bytes: Int)
    case unsupported
    case tooMany(Int)
    case unknown(String)

    public var kind: RefusalKind {
        switch self {
        case .unknown: .notFound
        case .empty, .tooLarge, .unsupported, .tooMany: .invalid
        }
    }

    public var code: String {
        switch self {
        case .empty: "media_empty"
        case .tooLarge: "media_too_large"
        case .unsupported: "media_type_not_accepted"
        case .tooMany: "media_too_many"
        case .unknown: "not_found"
        }
    }

    public var message: String {
        switch self {
        case .empty: "The file is empty."
        case .tooLarge(let bytes):
            "Media for one text is at most 5 MB (5,242,880 bytes); this is \(bytes) bytes."
        case .unsupported:
            "This file is not a kind carriers deliver: send a JPEG, PNG, GIF or WebP picture, an MP3 or WAV sound, an MP4 video, a PDF or a vCard."
        case .tooMany(let count): "A text carries at most 10 media; \(count) were given."
        case .unknown(let id): "media: there is no media item \(id) in this organisation."
        }
    }

    public var field: String? {
        switch self {
        case .empty, .tooLarge, .unsupported: "file"
        case .tooMany, .unknown: "media"
        }
    }
}
