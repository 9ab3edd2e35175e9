import { describe, expect, test } from "bun:test";
import { detectApp, exeNeededForApp, isWineLoader, parseCmdline } from "../../src/core/app_name.ts";

describe("detectApp()", () => {
  // [description, argv, expected name, expected kind]
  const cases: [string, string[], string, string][] = [
    ["a plain program uses argv[0]", ["/usr/bin/bash", "-l"], "/usr/bin/bash", "plain"],
    [
      "Flatpak bwrap uses the command after --",
      ["/usr/bin/bwrap", "--args", "41", "--", "/app/bin/gimp", "x.png"],
      "/app/bin/gimp",
      "plain",
    ],
    [
      "bwrap without -- stays bwrap",
      ["/usr/bin/bwrap", "--ro-bind", "/", "/"],
      "/usr/bin/bwrap",
      "plain",
    ],
    [
      "zypak-helper uses the command after -",
      ["/app/bin/zypak-helper", "host", "-", "/app/extra/slack", "--x"],
      "/app/extra/slack",
      "plain",
    ],
    [
      "bwrap wrapping zypak wrapping Electron",
      [
        "bwrap",
        "--",
        "/app/bin/zypak-helper",
        "child",
        "-",
        "/app/x/app",
        "/app/x/resources/app.asar",
      ],
      "/app/x/resources/app.asar",
      "electron",
    ],
    [
      "python3 by path uses the script",
      ["/usr/bin/python3", "/opt/tool/run.py", "--v"],
      "/opt/tool/run.py",
      "python",
    ],
    ["bare python skips flags", ["python", "-u", "-B", "serve.py"], "serve.py", "python"],
    ["python3.12 is an interpreter", ["python3.12", "app.py"], "app.py", "python"],
    ["python -W takes a value", ["python3", "-W", "ignore", "main.py"], "main.py", "python"],
    [
      "python -m names the module",
      ["python3", "-m", "http.server", "8000"],
      "http.server",
      "python",
    ],
    [
      "python -c is labelled by the first line of code",
      ["python3", "-c", "import sys\nprint(1)"],
      "python3 -c 'import sys'",
      "python",
    ],
    [
      "a long -c line is cut",
      ["python3", "-c", "x".repeat(60)],
      `python3 -c '${"x".repeat(40)}…'`,
      "python",
    ],
    ["python with no script stays the interpreter", ["python3"], "python3", "plain"],
    ["pythonista is not python", ["/usr/bin/pythonista", "a.py"], "/usr/bin/pythonista", "plain"],
    [
      "an .asar argument names an Electron app",
      ["/usr/lib/electron/electron", "/usr/lib/code/app.asar"],
      "/usr/lib/code/app.asar",
      "electron",
    ],
    [
      "a --flag=/path/app.asar argument",
      ["electron", "--app-path=/opt/x/app.asar", "--y"],
      "/opt/x/app.asar",
      "electron",
    ],
    [
      "/proc/self/exe with --user-data-dir=DIR",
      ["/proc/self/exe", "--type=renderer", "--user-data-dir=/home/u/.config/Code"],
      "/home/u/.config/Code (electron helper)",
      "electron-helper",
    ],
    [
      "/proc/self/exe without a data dir",
      ["/proc/self/exe", "--type=zygote"],
      "/proc/self/exe",
      "plain",
    ],
    [
      "a first argument ending in .exe is Wine",
      ["C:\\Games\\Game.EXE", "-dx12"],
      "C:\\Games\\Game.EXE",
      "wine",
    ],
    ["a lower-case .exe path", ["Z:\\home\\u\\setup.exe"], "Z:\\home\\u\\setup.exe", "wine"],
    [
      "a single string with a drive letter splits after .exe",
      ["C:\\Program Files\\Steam\\steam.exe -silent"],
      "C:\\Program Files\\Steam\\steam.exe",
      "wine",
    ],
    [
      "a single string splits before the first -x flag",
      ["/usr/sbin/nginx -g daemon off;"],
      "/usr/sbin/nginx",
      "plain",
    ],
    [
      "a single string splits before a --flag",
      ["/opt/java/bin/java --add-opens x -jar a.jar"],
      "/opt/java/bin/java",
      "plain",
    ],
    ["a single string with no flag stays whole", ["node server.js"], "node server.js", "plain"],
    ["a single python string", ["/usr/bin/python3 -u worker.py"], "worker.py", "python"],
    [
      "a drive-letter string without .exe stays whole",
      ["C:\\tools\\run me"],
      "C:\\tools\\run me",
      "plain",
    ],
  ];
  for (const [what, argv, name, kind] of cases) {
    test(what, () => {
      expect(detectApp(argv)).toEqual({ name, kind: kind as "plain" });
    });
  }
});

describe("detectApp() tells Wine from a native program named .exe", () => {
  const BUN = "/home/u/proj/node_modules/bun/bin/bun.exe";
  const PRELOADER = "/usr/lib/wine/wine64-preloader";
  // [description, argv, /proc/PID/exe (undefined: unknown or unreadable), expected name, expected kind]
  const cases: [string, string[], string | undefined, string, string][] = [
    ["npm's native bun.exe (exe is itself)", [BUN, "test"], BUN, BUN, "plain"],
    ["bun.exe whose exe cannot be read (EACCES)", [BUN, "test"], undefined, BUN, "plain"],
    ["a bare tool.exe whose exe is unknown", ["tool.exe"], undefined, "tool.exe", "plain"],
    ["game.exe run by wine64-preloader", ["game.exe", "-w"], PRELOADER, "game.exe", "wine"],
    [
      "a Unix path to a .exe run by Proton's preloader",
      ["/home/u/Games/x/Game.exe"],
      "/home/u/.steam/steam/steamapps/common/Proton 9.0/files/bin/wine64-preloader",
      "/home/u/Games/x/Game.exe",
      "wine",
    ],
    ["wine-preloader (32-bit)", ["setup.EXE"], "/usr/bin/wine-preloader", "setup.EXE", "wine"],
    ["wine itself (WoW64, no preloader)", ["app.exe"], "/usr/lib/wine/wine", "app.exe", "wine"],
    ["wine64 itself", ["app.exe"], "/opt/wine-staging/bin/wine64", "app.exe", "wine"],
    ["a loader replaced by an upgrade", ["app.exe"], `${PRELOADER} (deleted)`, "app.exe", "wine"],
    ["wineserver is not a loader", ["app.exe"], "/usr/bin/wineserver", "app.exe", "plain"],
    [
      "a loader-like name is not a loader",
      ["app.exe"],
      "/opt/wine64-preloader2",
      "app.exe",
      "plain",
    ],
    [
      "C:\\ path without exe information",
      ["C:\\Games\\Game.exe"],
      undefined,
      "C:\\Games\\Game.exe",
      "wine",
    ],
    ["Z:/ path (forward slash)", ["Z:/home/u/game.exe"], undefined, "Z:/home/u/game.exe", "wine"],
    ["UNC path", ["\\\\server\\share\\game.exe"], undefined, "\\\\server\\share\\game.exe", "wine"],
    [
      "a Windows path wins over a native exe",
      ["C:\\x\\a.exe"],
      "/usr/bin/sleep",
      "C:\\x\\a.exe",
      "wine",
    ],
    ["a wine loader without a .exe name stays plain", ["notepad"], PRELOADER, "notepad", "plain"],
    [
      "a drive letter without a slash is not a path",
      ["C:game.exe"],
      undefined,
      "C:game.exe",
      "plain",
    ],
    [
      "bwrap passes the exe on to the wrapped command",
      ["bwrap", "--", "game.exe"],
      PRELOADER,
      "game.exe",
      "wine",
    ],
  ];
  for (const [what, argv, exe, name, kind] of cases) {
    test(what, () => {
      expect(detectApp(argv, exe)).toEqual({ name, kind: kind as "plain" });
    });
  }
});

describe("isWineLoader()", () => {
  const cases: [string | undefined, boolean][] = [
    ["/usr/lib/wine/wine64-preloader", true],
    ["/usr/lib/wine/wine-preloader", true],
    ["/usr/bin/wine", true],
    ["/usr/bin/wine64", true],
    ["/usr/lib/wine/wine64-preloader (deleted)", true],
    ["wine64-preloader", true],
    ["/usr/bin/wineserver", false],
    ["/usr/bin/winecfg", false],
    ["/home/u/bin/bun.exe", false],
    ["/usr/bin/wine64-preloader.exe", false],
    ["/usr/bin/mywine", false],
    ["", false],
    [undefined, false],
  ];
  for (const [exe, expected] of cases) {
    test(`${JSON.stringify(exe)} is ${expected ? "" : "not "}a loader`, () => {
      expect(isWineLoader(exe)).toBe(expected);
    });
  }
});

describe("exeNeededForApp()", () => {
  const cases: [string[], boolean][] = [
    [["/usr/bin/bash"], false],
    [[], false],
    [["/opt/bun.exe"], true],
    [["GAME.EXE"], true],
    [["wine64", "game.exe"], true],
    [["C:\\Steam\\steam.exe -silent"], true],
    [["/usr/bin/executor"], false],
    [["/srv/app.exe.bak"], false],
  ];
  for (const [argv, expected] of cases) {
    test(`${JSON.stringify(argv)}: ${expected}`, () =>
      expect(exeNeededForApp(argv)).toBe(expected));
  }
});

describe("parseCmdline()", () => {
  const cases: [string, string, string[]][] = [
    ["NUL-separated with a final NUL", "ls\0-l\0/tmp\0", ["ls", "-l", "/tmp"]],
    ["no final NUL (setproctitle)", "nginx: worker process", ["nginx: worker process"]],
    ["empty", "", []],
    ["an empty argument in the middle", "a\0\0b\0", ["a", "", "b"]],
    ["quotes and newlines kept", 'x\0a "b"\nc\0', ["x", 'a "b"\nc']],
  ];
  for (const [what, raw, argv] of cases) {
    test(what, () => expect(parseCmdline(Buffer.from(raw))).toEqual(argv));
  }
  test("invalid UTF-8 is replaced, not fatal", () => {
    expect(parseCmdline(Buffer.from([0x61, 0xff, 0x00]))).toEqual(["a\ufffd"]);
  });
});
