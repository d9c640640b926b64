import Foundation

/// The kinds of media a text can carry, recognised by their first bytes (never by the file's
/// name): the images, audio, video and documents carriers deliver by MMS (Twilio's accepted
/// types), and the audio a voice broadcast plays.
public enum MediaKind: String, Sendable, Codable, CaseIterable {
    case jpeg
    case png
    case gif
    case webp
    case mp3
    case wav
    case mp4
    case pdf
    case vcard

    /// The content type it is stored and served with.
    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .mp3: "audio/mpeg"
        case .wav: "audio/wav"
        case .mp4: "video/mp4"
        case .pdf: "application/pdf"
        case .vcard: "text/vcard"
        }
    }

    /// Whether it is a picture (shown inline in the portal).
    public var isImage: Bool { [.jpeg, .png, .gif, .webp].contains(self) }

    /// What the bytes are, or nil for anything carriers do not take (an executable renamed
    /// `photo.jpg` is nil).
    public static func sniff(_ bytes: some Collection<UInt8>) -> MediaKind? {
        let head = Array(bytes.prefix(16))
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("RIFF".utf8)) && starts(Array("WAVE".utf8), at: 8) { return .wav }
        if starts(Array("ID3".utf8)) || starts([0xFF, 0xFB]) || starts([0xFF, 0xF3]) || starts([0xFF, 0xF2]) {
            return .mp3
        }
        if starts(Array("ftyp".utf8), at: 4) { return .mp4 }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts(Array("BEGIN:VCARD".utf8)) { return .vcard }
        return nil
    }
}

/// How much media one text may carry (Twilio: 5 MB per message and at most 10 media).
public enum MediaLimits {
    /// The largest file accepted, and the most one text carries in all.
    public static let bytesPerMessage = 5 * 1024 * 1024
    public static let itemsPerMessage = 10
    /// Above this an image is at risk: some carriers shrink or drop pictures over about 600 KB.
    public static let carrierFriendlyImageBytes = 600 * 1024
    /// Where MMS goes on most providers.
    public static let countries: Set<Country> = [.us, .ca]
}
