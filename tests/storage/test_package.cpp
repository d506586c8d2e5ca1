// The Debian package: built by CPack from this build tree into a temporary folder, then
// inspected as a user's system would see it: control fields (dependencies computed from the
// binaries plus the run-time QML modules), the file list, ownership and permissions, the
// desktop entry and AppStream metadata (validated with the distribution's own validators),
// the man pages, and both programs started from the unpacked package.
//
// Slow (packaging strips and compresses the binaries): CTest label "package".

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

Run run(const QString& program, const QStringList& args, int timeoutMs = 120'000,
        const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(program, args);
    Run r;
    if (!p.waitForStarted(30'000)) {
        r.err = QStringLiteral("%1 did not start: %2").arg(program, p.errorString());
        return r;
    }
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5'000);
        r.err = QStringLiteral("%1 did not finish within %2 s").arg(program).arg(timeoutMs / 1000);
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString describe(const Run& r) {
    return QStringLiteral("exit %1\n%2\n%3").arg(r.code).arg(r.out, r.err);
}

const QString kVersion = QStringLiteral(FM_PROJECT_VERSION);

}  // namespace

class TestPackage : public QObject {
    Q_OBJECT

private:
    // One row for each program the package installs: the app and the CLI.
    static void addProgramRows() {
        QTest::addColumn<QString>("program");
        QTest::newRow("app") << QStringLiteral("falcon-mamba-chat");
        QTest::newRow("cli") << QStringLiteral("falcon-mamba-cli");
    }

    QTemporaryDir dir_;
    QString deb_;
    QString root_;                   // the package unpacked with dpkg-deb -x
    QStringList entries_;            // dpkg-deb -c lines
    QHash<QString, QString> modes_;  // path -> "drwxr-xr-x root/root"

    QString field(const QString& name) {
        Run r = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-f"), deb_, name});
        return r.code == 0 ? r.out.trimmed() : QString();
    }

private slots:
    void initTestCase() {
        for (const char* tool :
             {"dpkg-deb", "dpkg-shlibdeps", "file", "desktop-file-validate", "appstreamcli", "gzip"}) {
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                QSKIP(qPrintable(QStringLiteral("%1 is not installed (installer/install-deps.sh installs it)")
                                     .arg(QString::fromLatin1(tool))));
        }
        QVERIFY(dir_.isValid());
        const QString config = QStringLiteral(FM_BINARY_DIR "/CPackConfig.cmake");
        QVERIFY2(QFile::exists(config), qPrintable(config));
        // Into a folder of our own: the build tree's own package folder is left alone.
        const QString out = dir_.filePath(QStringLiteral("package"));
        Run cpack = run(QStringLiteral(FM_CPACK_COMMAND),
                        {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"), config,
                         QStringLiteral("-B"), out},
                        1'500'000);
        QVERIFY2(cpack.code == 0, qPrintable(describe(cpack)));
        const QStringList debs = QDir(out).entryList({QStringLiteral("*.deb")}, QDir::Files);
        QCOMPARE(debs.size(), 1);
        deb_ = QDir(out).filePath(debs.front());
        Run arch = run(QStringLiteral("dpkg"), {QStringLiteral("--print-architecture")});
        QCOMPARE(debs.front(), QStringLiteral("falcon-mamba-chat_%1_%2.deb").arg(kVersion, arch.out.trimmed()));

        Run list = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-c"), deb_});
        QVERIFY2(list.code == 0, qPrintable(describe(list)));
        // "drwxr-xr-x root/root         0 2026-11-28 15:00 ./usr/"
        static const QRegularExpression kLine(
            QStringLiteral("^(\\S+)\\s+(\\S+)\\s+\\d+\\s+\\S+\\s+\\S+\\s+(\\./\\S*)"));
        for (const QString& line : list.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            const QRegularExpressionMatch m = kLine.match(line);
            QVERIFY2(m.hasMatch(), qPrintable(line));
            entries_.append(m.captured(3));
            modes_.insert(m.captured(3), m.captured(1) + QLatin1Char(' ') + m.captured(2));
        }
        root_ = dir_.filePath(QStringLiteral("root"));
        Run unpack = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb_, root_});
        QVERIFY2(unpack.code == 0, qPrintable(describe(unpack)));
    }

    void controlFields() {
        QCOMPARE(field(QStringLiteral("Package")), QStringLiteral("falcon-mamba-chat"));
        QCOMPARE(field(QStringLiteral("Version")), kVersion);
        QCOMPARE(field(QStringLiteral("Section")), QStringLiteral("utils"));
        QVERIFY(QRegularExpression(QStringLiteral("^.+ <[^@>\\s]+@[^>\\s]+>$"))
                    .match(field(QStringLiteral("Maintainer")))
                    .hasMatch());
        const QString description = field(QStringLiteral("Description"));
        QVERIFY2(description.startsWith(QStringLiteral("Private local chat with Falcon Mamba models\n")),
                 qPrintable(description));
        QVERIFY(description.contains(QStringLiteral("falcon-mamba-cli")));
        QVERIFY(field(QStringLiteral("Installed-Size")).toLongLong() > 1000);

        const QString depends = field(QStringLiteral("Depends"));
        // From dpkg-shlibdeps (the binaries' own libraries) ...
        for (const char* library : {"libc6", "libstdc++6", "libqt6core6", "libqt6gui6", "libqt6qml6", "libqt6sql6"})
            QVERIFY2(
                QRegularExpression(
                    QStringLiteral("(^|, )%1( \\(|,|$)").arg(QRegularExpression::escape(QString::fromLatin1(library))))
                    .match(depends)
                    .hasMatch(),
                qPrintable(QStringLiteral("%1 not in Depends: %2").arg(QString::fromLatin1(library), depends)));
        // ... and what is only loaded at run time.
        for (const char* module :
             {"qml6-module-qtquick", "qml6-module-qtquick-controls", "qml6-module-qtquick-layouts",
              "qml6-module-qtquick-window", "qml6-module-qtquick-dialogs", "qml6-module-qtquick-templates",
              "qml6-module-qtquick-shapes", "qml6-module-qtcore", "qml6-module-qt-labs-platform",
              "qml6-module-qtqml-workerscript", "qml6-module-qtqml-models", "libqt6sql6-sqlite"})
            QVERIFY2(depends.split(QStringLiteral(", ")).contains(QString::fromLatin1(module)),
                     qPrintable(QStringLiteral("%1 not in Depends: %2").arg(QString::fromLatin1(module), depends)));
        // The GPU driver's library is never a hard dependency (a CPU-only machine must be able to install).
        QVERIFY2(!depends.contains(QStringLiteral("cuda")), qPrintable(depends));
        // dpkg needs the checksums to verify the installed files (dpkg --verify).
        Run info = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-I"), deb_});
        QVERIFY2(info.out.contains(QStringLiteral("md5sums")), qPrintable(info.out));
    }

    void containsFiles_data() {
        QTest::addColumn<QString>("path");
        for (const char* path :
             {"./usr/bin/falcon-mamba-chat", "./usr/bin/falcon-mamba-cli",
              "./usr/share/applications/falcon-mamba-chat.desktop",
              "./usr/share/icons/hicolor/scalable/apps/falcon-mamba-chat.svg",
              "./usr/share/icons/hicolor/48x48/apps/falcon-mamba-chat.png",
              "./usr/share/icons/hicolor/128x128/apps/falcon-mamba-chat.png",
              "./usr/share/icons/hicolor/256x256/apps/falcon-mamba-chat.png",
              "./usr/share/man/man1/falcon-mamba-chat.1.gz", "./usr/share/man/man1/falcon-mamba-cli.1.gz",
              "./usr/share/doc/falcon-mamba-chat/copyright"})
            QTest::newRow(path) << QString::fromLatin1(path);
    }
    void containsFiles() {
        QFETCH(QString, path);
        QVERIFY2(entries_.contains(path), qPrintable(entries_.join(QLatin1Char('\n'))));
    }

    // Everything under /usr, owned by root, with the permissions dpkg expects; no build
    // leftovers (static libraries, headers) and no bundled GPU driver.
    void filesAreWhereTheyBelong() {
        QVERIFY(entries_.size() > 10);
        for (const QString& path : std::as_const(entries_)) {
            const QString mode = modes_.value(path);
            QVERIFY2(path == QLatin1String("./") || path.startsWith(QLatin1String("./usr/")), qPrintable(path));
            QVERIFY2(mode.endsWith(QLatin1String(" root/root")), qPrintable(path + QLatin1Char(' ') + mode));
            QVERIFY2(!path.endsWith(QLatin1String(".a")) && !path.endsWith(QLatin1String(".h")) &&
                         !path.contains(QLatin1String("/include/")),
                     qPrintable(path));
            QVERIFY2(!path.contains(QLatin1String("libcuda")), qPrintable(path));
            if (path.endsWith(QLatin1Char('/'))) {
                QVERIFY2(mode.startsWith(QLatin1String("drwxr-xr-x")), qPrintable(path + QLatin1Char(' ') + mode));
            } else if (path.startsWith(QLatin1String("./usr/bin/"))) {
                QVERIFY2(mode.startsWith(QLatin1String("-rwxr-xr-x")), qPrintable(path + QLatin1Char(' ') + mode));
            } else {
                QVERIFY2(mode.startsWith(QLatin1String("-rw-r--r--")), qPrintable(path + QLatin1Char(' ') + mode));
            }
        }
        // Stripped: debug information does not belong in a user's package.
        for (const char* program : {"falcon-mamba-chat", "falcon-mamba-cli"}) {
            Run f = run(QStringLiteral("file"),
                        {QStringLiteral("-b"), root_ + QStringLiteral("/usr/bin/") + QString::fromLatin1(program)});
            QVERIFY2(f.out.contains(QStringLiteral("ELF")) && f.out.contains(QStringLiteral(", stripped")),
                     qPrintable(f.out));
        }
    }

    void desktopEntryIsValid() {
        const QString desktop = root_ + QStringLiteral("/usr/share/applications/falcon-mamba-chat.desktop");
        Run v = run(QStringLiteral("desktop-file-validate"), {desktop});
        QVERIFY2(v.code == 0 && !v.out.contains(QStringLiteral("error")), qPrintable(describe(v)));
        QFile file(desktop);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        // It starts the packaged program and shows the packaged icon.
        QVERIFY(text.contains(QStringLiteral("\nExec=falcon-mamba-chat\n")));
        QVERIFY(text.contains(QStringLiteral("\nIcon=falcon-mamba-chat\n")));
    }

    void metainfoIsValid() {
        const QStringList found =
            QDir(root_ + QStringLiteral("/usr/share/metainfo")).entryList({QStringLiteral("*.metainfo.xml")});
        QCOMPARE(found.size(), 1);
        const QString metainfo = root_ + QStringLiteral("/usr/share/metainfo/") + found.front();
        Run v = run(QStringLiteral("appstreamcli"), {QStringLiteral("validate"), QStringLiteral("--no-net"), metainfo});
        QVERIFY2(v.code == 0, qPrintable(describe(v)));
        QFile file(metainfo);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString xml = QString::fromUtf8(file.readAll());
        QVERIFY(xml.contains(QStringLiteral("<id>%1</id>").arg(found.front().chopped(int(qstrlen(".metainfo.xml"))))));
        QVERIFY(xml.contains(QStringLiteral("<launchable type=\"desktop-id\">falcon-mamba-chat.desktop</launchable>")));
        QVERIFY(xml.contains(QStringLiteral("<release version=\"%1\"").arg(kVersion)));
    }

    void manPagesAreCompressedAndCurrent_data() { addProgramRows(); }
    void manPagesAreCompressedAndCurrent() {
        QFETCH(QString, program);
        Run text = run(QStringLiteral("gzip"),
                       {QStringLiteral("-dc"), root_ + QStringLiteral("/usr/share/man/man1/%1.1.gz").arg(program)});
        QVERIFY2(text.code == 0, qPrintable(describe(text)));
        QVERIFY(text.out.contains(QStringLiteral(".TH %1 1 ").arg(program.toUpper())));
        QVERIFY(text.out.contains(QStringLiteral("\"Falcon Mamba Chat %1\"").arg(kVersion)));
        QVERIFY(!text.out.contains(QLatin1Char('@')));  // every @VARIABLE@ was filled in
        if (!QStandardPaths::findExecutable(QStringLiteral("man")).isEmpty()) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("MANWIDTH"), QStringLiteral("80"));
            Run render = run(QStringLiteral("man"),
                             {QStringLiteral("--warnings"), QStringLiteral("-l"),
                              root_ + QStringLiteral("/usr/share/man/man1/%1.1.gz").arg(program)},
                             60'000, env);
            QVERIFY2(render.code == 0 && render.err.trimmed().isEmpty(), qPrintable(describe(render)));
            QVERIFY(render.out.contains(QStringLiteral("SYNOPSIS")));
        }
    }

    void programsRunFromThePackage_data() { addProgramRows(); }
    void programsRunFromThePackage() {
        QFETCH(QString, program);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        Run r = run(root_ + QStringLiteral("/usr/bin/") + program, {QStringLiteral("--version")}, 60'000, env);
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        QCOMPARE(r.out.trimmed(), QStringLiteral("%1 %2").arg(program, kVersion));
    }

    // The packaged CLI with the system's Qt plugins: SQLite driver, offscreen platform, fonts.
    void packagedCliImportsAndExports() {
        const QString cli = root_ + QStringLiteral("/usr/bin/falcon-mamba-cli");
        const QString db = dir_.filePath(QStringLiteral("conversations.sqlite"));
        Run imported = run(cli, {QStringLiteral("import"), QStringLiteral("--db"), db, QStringLiteral("--in"),
                                 QStringLiteral(FM_TEST_DATA_DIR "/export/conversations-v1.json")});
        QVERIFY2(imported.code == 0, qPrintable(describe(imported)));
        QVERIFY(imported.out.contains(QStringLiteral("imported 2 conversations")));
        const QString pdf = dir_.filePath(QStringLiteral("all.pdf"));
        Run exported = run(cli, {QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--all"),
                                 QStringLiteral("--out"), pdf});
        QVERIFY2(exported.code == 0, qPrintable(describe(exported)));
        QFile file(pdf);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.read(5), QByteArray("%PDF-"));
    }
};

QTEST_GUILESS_MAIN(TestPackage)
#include "test_package.moc"
