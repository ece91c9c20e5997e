"""Read-aloud speed: synthesis and encoding of a one-minute reading, and the first voice push
of a policy to many listeners making the clip once.

Run from the repository root: `.venv/bin/python -m bench.voice_bench [--listeners 10000]`.

Goals: synthesis + encoding < 0.5 s for a 60-second message; the first voice push of a policy
to 10,000 voice subscribers synthesises once. CPU time is printed next to wall time because
other processes share this machine; the per-minute line splits the CPU between synthesis,
resampling and encoding.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from push.posters.content import PolicyKeyPoints
from push.voice import opus as opus_encoder
from push.voice.encode import join, mp3_chunks, ogg_opus, resample
from push.voice.engine import shared_engine
from push.voice.library import OGG, VoiceLibrary
from push.voice.reading import reading_script

POINTS = PolicyKeyPoints(
    title="泾源县一次性创业补贴实施办法", doc_no="泾人社规发〔2026〕1号", agency="泾源县人力资源和社会保障局",
    valid_until=date(2028, 2, 29), is_valid=True, validity_label="有效",
    who_qualifies="在本县首次创办小微企业或从事个体经营、正常经营6个月以上的高校毕业生、返乡农民工、退役军人",
    benefits="一次性创业补贴每户5000元，同一经营主体只能享受一次", application_closes=date(2026, 12, 31),
    how_to_apply="申请人持身份证明、营业执照、经营场所证明，到所在乡（镇）便民服务中心或县就业创业服务中心提出申请",
    phone="0954-5012345", phone_unit="泾源县人力资源和社会保障局",
)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> str:
    return f"wall {time.perf_counter() - start[0]:.3f} s, cpu {time.process_time() - start[1]:.3f} s"


async def many_listeners(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        library = VoiceLibrary(Path(folder), shared_engine())
        script = reading_script(POINTS)
        start = clock()
        clips = await asyncio.gather(*(library.clip(1, 1, OGG, script) for _ in range(count)))
        print(f"first push to {count} voice subscribers at once: {library.syntheses} synthesis, "
              f"{len({c.parts for c in clips})} distinct file(s), {since(start)}")


async def telegram_push(count: int, concurrency: int = 50) -> None:
    """The voice part of a first push to `count` Telegram listeners, through the real sending
    code (`send_telegram_voice`: clip, upload once, file id for the rest) and aiogram against the
    fake Bot API in this process, on a throw-away SQLite database."""
    from aiogram import Bot

    from core.db import Database
    from core.migrate import upgrade_database
    from push.channels.telegram import make_telegram_bot
    from push.voice.delivery import send_telegram_voice
    from push.voice.service import VoiceService
    from tests.factories import make_published_policy
    from tests.fakes.telegram_api import FakeTelegram

    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade_database(db)
        policy = await make_published_policy(db)
        voice = VoiceService(db, Path(folder) / "voice", base_url="http://bench", secret="bench", phone="12345")
        async with FakeTelegram() as tg:
            bot: Bot = make_telegram_bot("123456:BENCH", tg.base_url)
            gate = asyncio.Semaphore(concurrency)

            async def one(chat: int) -> None:
                async with gate:
                    await send_telegram_voice(bot, voice, str(chat), policy.id)

            start = clock()
            await asyncio.gather(*(one(10_000 + n) for n in range(count)))
            took = since(start)
            await bot.session.close()
            print(f"first voice push to {count} Telegram listeners (fake Bot API in process): "
                  f"{voice.library.syntheses} synthesis, {len(tg.voice_uploads)} upload, "
                  f"{len(tg.calls_to('sendVoice'))} sendVoice, {took}")
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--telegram", type=int, default=10_000, help="listeners for the sendVoice run (0: skip)")
    args = parser.parse_args()

    start = clock()
    engine = shared_engine()
    print(f"engine {engine.key}: loaded in {since(start)}")
    script = reading_script(POINTS)
    print(f"reading: {len(''.join(script))} characters, {len(script)} sentences")
    for n in range(args.rounds):
        start = clock()
        speech = join([engine.speak(s) for s in script])
        synth = since(start)
        start = clock()
        ogg = ogg_opus(speech)
        ogg_time = since(start)
        start = clock()
        chunks = mp3_chunks([engine.speak(s) for s in script])
        mp3_time = since(start)
        print(f"round {n + 1}: {speech.seconds:.1f} s of speech; synthesis {synth}; OGG/Opus {ogg_time} "
              f"({len(ogg) / 1024:.0f} KiB); synthesis + MP3 chunks {mp3_time} "
              f"({len(chunks)} chunk(s), longest {max(c.seconds for c in chunks):.1f} s)")
    minute = join([engine.speak(s) for s in script])
    samples = int(60 * minute.sample_rate)
    minute = type(minute)(minute.samples[:samples], minute.sample_rate)
    synth, resampling, opus, mp3, sndfile = [], [], [], [], []
    for _ in range(max(args.rounds, 1)):  # the least of several rounds: other work shares the CPU
        start = clock()
        one = join([engine.speak(s) for s in script])
        synth.append((time.process_time() - start[1]) * 60 / one.seconds)
        start = clock()
        audio = resample(minute)
        resampling.append(time.process_time() - start[1])
        start = clock()
        ogg_opus(minute)
        opus.append(time.process_time() - start[1] - resampling[-1])
        start = clock()
        ogg_opus(minute, use_libopus=False)
        sndfile.append(time.process_time() - start[1] - resampling[-1])
        start = clock()
        mp3_chunks([minute])
        mp3.append(time.process_time() - start[1] - resampling[-1])
    per_minute, resample_cpu, ogg_cpu, mp3_cpu = min(synth), min(resampling), min(opus), min(mp3)
    print(f"per 60 s message (cpu, least of {len(synth)}): synthesis {per_minute:.3f} s, resampling "
          f"{minute.sample_rate} → {audio.sample_rate} Hz {resample_cpu:.3f} s, Opus encoding {ogg_cpu:.3f} s, "
          f"MP3 encoding {mp3_cpu:.3f} s")
    encoder = (f"libopus, complexity {opus_encoder.COMPLEXITY}, {opus_encoder.BITRATE // 1000} kbit/s"
               if opus_encoder.available() else "libsndfile (no libopus on this system)")
    print(f"OGG/Opus by {encoder}: {ogg_cpu:.3f} s; by libsndfile (complexity 10): {min(sndfile):.3f} s")
    print(f"synthesis + OGG/Opus: {per_minute + resample_cpu + ogg_cpu:.3f} s cpu; synthesis + MP3 "
          f"{per_minute + resample_cpu + mp3_cpu:.3f} s  (goal < 0.5 s)")
    asyncio.run(many_listeners(args.listeners))
    if args.telegram:
        asyncio.run(telegram_push(args.telegram))


if __name__ == "__main__":
    main()
