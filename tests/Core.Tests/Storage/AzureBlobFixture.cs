// One Azurite per test class (an xunit class fixture, started by tests/TestSupport/Azurite)
// for the Azure Blob backend tests; each test then takes a fresh container from it.
//
// AzureBlobOAuthFixture runs it the way a managed identity meets Azure: HTTPS (a
// self-signed certificate made here and trusted only by these clients) and bearer tokens
// (Azurite's "basic" OAuth checks issuer and audience, not the signature), so the backend's
// user-delegation SAS path runs against a real service.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public class AzureBlobFixture : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    public const string AccountName = "devstoreaccount1";

    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly bool _oauth;
    private Azurite? _azurite;
    private string? _certFolder;
    private byte[]? _certificate;

    public AzureBlobFixture()
        : this(oauth: false)
    {
    }

    protected AzureBlobFixture(bool oauth)
    {
        _oauth = oauth;
    }

    public int BlobPort => (_azurite ?? throw new InvalidOperationException("Azurite has not started")).BlobPort;

    public string Scheme => _oauth ? "https" : "http";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol={Scheme};AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={Scheme}://127.0.0.1:{BlobPort}/{AccountName};";

    /// <summary>A shared-key client for a container no other test uses (not created yet).</summary>
    public BlobContainerClient NewContainer() => new(ConnectionString, NewContainerName(), ClientOptions());

    /// <summary>A bearer-token client (no key: as a managed identity has) for a fresh container;
    /// only on the OAuth fixture. <paramref name="policy"/> sees every request.</summary>
    public BlobContainerClient NewContainerWithToken(HttpPipelinePolicy? policy = null)
    {
        if (!_oauth)
        {
            throw new InvalidOperationException("bearer tokens need the HTTPS + OAuth Azurite (AzureBlobOAuthFixture)");
        }

        var options = ClientOptions();
        if (policy is not null)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        }

        return new BlobContainerClient(new Uri($"https://127.0.0.1:{BlobPort}/{AccountName}/{NewContainerName()}"), new UnsignedEntraToken(), options);
    }

    /// <summary>An HttpClient that trusts this Azurite's certificate (and only that one).</summary>
    public HttpClient NewHttpClient() => new(Handler());

    public async Task InitializeAsync()
    {
        string[] extra = [];
        if (_oauth)
        {
            var (cert, key) = WriteSelfSignedCertificate();
            extra = ["--oauth", "basic", "--cert", cert, "--key", key];
        }

        _azurite = await Azurite.StartAsync(extra);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }

        if (_certFolder is not null)
        {
            Directory.Delete(_certFolder, recursive: true);
            _certFolder = null;
        }
    }

    private (string Cert, string Key) WriteSelfSignedCertificate()
    {
        _certFolder = Directory.CreateTempSubdirectory("nixery-azurite-cert-").FullName;
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        _certificate = certificate.RawData;
        var cert = Path.Combine(_certFolder, "cert.pem");
        var key = Path.Combine(_certFolder, "key.pem");
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        return (cert, key);
    }

    private HttpClientHandler Handler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
            errors == System.Net.Security.SslPolicyErrors.None
            || (_certificate is not null && certificate is not null && certificate.RawData.AsSpan().SequenceEqual(_certificate)),
    };

    private BlobClientOptions ClientOptions() => _oauth ? new() { Transport = new HttpClientTransport(Handler()) } : new();

    private static string NewContainerName() => "t" + Guid.NewGuid().ToString("N");
}

/// <summary>Azurite over HTTPS with bearer-token (OAuth) authentication.</summary>
public sealed class AzureBlobOAuthFixture() : AzureBlobFixture(oauth: true);

/// <summary>A token shaped like one from Microsoft Entra ID for Azure Storage. Azurite's
/// "basic" OAuth reads issuer and audience and does not check the signature.</summary>
internal sealed class UnsignedEntraToken : TokenCredential
{
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    public const string ObjectId = "0b7a8c61-0000-4000-8000-00000000c0de";

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var expires = now.AddHours(1);
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["aud"] = "https://storage.azure.com",
            ["iss"] = $"https://sts.windows.net/{TenantId}/",
            ["oid"] = ObjectId,
            ["tid"] = TenantId,
            ["iat"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
            ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
        }));
        return new AccessToken($"{header}.{payload}.{Base64Url("unsigned"u8.ToArray())}", expires);
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
