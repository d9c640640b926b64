import Crypto
import Foundation

/// Twilio's request signature: base64(HMAC-SHA1(auth token, URL + each POST parameter's name
/// and value, sorted by name)). Validation accepts the URL with and without its default port,
/// because proxies add or drop it.
public enum TwilioSignature {
    /// The signature of a request.
    public static func sign(url: String, parameters: [String: String], authToken: String) -> String {
        var message = url
        for name in parameters.keys.sorted() { message += name + (parameters[name] ?? "") }
        let key = SymmetricKey(data: Data(authToken.utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(mac).base64EncodedString()
    }

    /// True when `signature` matches the URL as given, or with its default port added or removed.
    public static func isValid(signature: String?, url: String, parameters: [String: String], authToken: String) -> Bool
    {
        guard let signature, !signature.isEmpty else { return false }
        for candidate in urlVariants(url)
        where constantTimeEqual(sign(url: candidate, parameters: parameters, authToken: authToken), signature) {
            return true
        }
        return false
    }

    /// The URL, and the same URL with the scheme's default port toggled.
    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            return [url]
        }
        let defaultPort = scheme == "https" ? 443 : (scheme == "http" ? 80 : nil)
        guard let defaultPort else { return [url] }
        if components.port == defaultPort {
            components.port = nil
        } else if components.port == nil {
            components.port = defaultPort
        } else {
            return [url]
        }
        return [url, components.string ?? url]
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
