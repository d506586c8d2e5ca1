// The Hub's model API answer: parseRepoInfo never crashes, and every file it accepts has a
// path that stays inside the snapshot folder and a blob name that is plain hex, since both
// become names on disk.
#include <QByteArray>
#include <QString>

#include <cstdlib>

#include "app/downloads/hub_protocol.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool is_hex(const QString& s, int length) {
    if (s.size() != length) return false;
    for (QChar c : s)
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f'))) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray json(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;
    const auto info = fm::downloads::parseRepoInfo(json, QStringLiteral("tiiuae/falcon-mamba-7b"), &error);
    if (!info) {
        if (error.isEmpty()) std::abort();
        return 0;
    }
    if (!fm::downloads::isCommitHash(info->commit)) std::abort();
    for (const fm::downloads::RepoFile& f : info->files) {
        if (f.path.isEmpty() || f.path.startsWith(u'/') || f.path.contains(u'\\')) std::abort();
        for (const QString& part : f.path.split(u'/'))
            if (part.isEmpty() || part == QStringLiteral(".") || part == QStringLiteral("..")) std::abort();
        if (!is_hex(f.etag(), f.isLfs() ? 64 : 40)) std::abort();
        if (f.size < 0) std::abort();
    }
    (void)fm::downloads::isValidRepoId(QString::fromUtf8(json));
    (void)fm::downloads::isValidRevision(QString::fromUtf8(json));
    return 0;
}
