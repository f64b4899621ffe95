/**
 * Certificates made with `openssl` at test time (never checked-in keys): a
 * CA, leaf certificates signed by it for given names (server and client use),
 * an expired one, and a second CA nobody trusts. EC P-256 keys: fast to make.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Issued {
  readonly cert: string;
  readonly key: string;
}

function run(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

export class TestPki {
  readonly dir: string;
  private serial = 1;

  constructor(dir = mkdtempSync(join(tmpdir(), "ficus-tls-"))) {
    this.dir = dir;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A self-signed CA: NAME.pem, NAME.key. */
  ca(name: string, cn = `${name} Test CA`): Issued {
    run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "30", "-subj", `/CN=${cn}/O=Ficus Tests`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], this.dir);
    return { cert: this.path(`${name}.pem`), key: this.path(`${name}.key`) };
  }

  /**
   * A leaf signed by `ca`: NAME.pem, NAME.key. `sans` like "DNS:a.test,IP:127.0.0.1".
   * `expired`: valid for one day in 2020 (through `openssl ca`, which takes explicit dates).
   */
  leaf(name: string, ca: Issued, cn: string, sans: string, opts: { expired?: boolean; org?: string } = {}): Issued {
    const subj = `/CN=${cn}${opts.org ? `/O=${opts.org}` : ""}`;
    run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj], this.dir);
    const ext = `${name}.ext`;
    writeFileSync(this.path(ext), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans}\n`);
    if (opts.expired) {
      const db = `${name}-db`;
      mkdirSync(this.path(db), { recursive: true });
      writeFileSync(this.path(`${db}/index.txt`), "");
      writeFileSync(this.path(`${db}/serial`), `${String(this.serial++).padStart(2, "0")}\n`);
      writeFileSync(
        this.path(`${db}/ca.cnf`),
        `[ca]\ndefault_ca=d\n[d]\ndatabase=${db}/index.txt\nnew_certs_dir=${db}\nserial=${db}/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\norganizationName=optional\n`,
      );
      run(["ca", "-batch", "-config", `${db}/ca.cnf`, "-cert", ca.cert, "-keyfile", ca.key, "-in", `${name}.csr`, "-out", `${name}.pem`, "-extfile", ext, "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext"], this.dir);
    } else {
      run(["x509", "-req", "-in", `${name}.csr`, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", String(1000 + this.serial++), "-out", `${name}.pem`, "-days", "30", "-extfile", ext], this.dir);
    }
    return { cert: this.path(`${name}.pem`), key: this.path(`${name}.key`) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
