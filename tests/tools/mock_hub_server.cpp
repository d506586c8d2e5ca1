// The download tests' mock Hugging Face Hub (tests/downloads/mock_hub.h) as a program, for the
// interoperability script (tests/interop/hf_hub_js.sh) that points the official JavaScript
// client at it. Serves tests/data/tiny-chat as tiiuae/tiny-chat on 127.0.0.1 until killed.
// Prints one line: the endpoint URL, a space, the repository's commit.

#include <QCoreApplication>
#include <cstdio>

#include "tests/downloads/mock_hub.h"

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: mock_hub_server TINY_CHAT_DIR\n");
        return 2;
    }
    fm::testing::MockHub hub;
    const auto repo = fm::testing::tinyChatRepo(QString::fromLocal8Bit(argv[1]));
    for (const auto& file : repo.files) {
        if (file.content.isEmpty() && file.path != QStringLiteral("README.md")) {
            std::fprintf(stderr, "mock_hub_server: cannot read %s/%s\n", argv[1], qPrintable(file.path));
            return 1;
        }
    }
    hub.repos.insert(QStringLiteral("tiiuae/tiny-chat"), repo);
    std::printf("%s %s\n", qPrintable(hub.endpoint()), qPrintable(repo.commit));
    std::fflush(stdout);
    return app.exec();
}
