"""Write the small raw-format fixtures beside this file (run it to remake them; the files are committed).

Every fixture holds the same pattern: 2θ from 20° to 40° in steps of 0.1° (201 points), a
background of 100 counts and two Cu Kα peaks, at 25° (1000 counts) and 32.5° (400); each
is written the way its format's public description lays it out (named per file below).
They are modelled on those descriptions, not copied from instrument output.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
TTH = np.round(20.0 + 0.1 * np.arange(201), 4)
COUNTS = np.round(
    100 + 1000 * np.exp(-0.5 * ((TTH - 25.0) / 0.08) ** 2) + 400 * np.exp(-0.5 * ((TTH - 32.5) / 0.1) ** 2)
)
CU = (1.540598, 1.544426, 0.5)  # the Kα1, Kα2 and ratio the fixtures state


def xrdml() -> bytes:
    """PANalytical XRDML 1.5: xrdMeasurements/xrdMeasurement (usedWavelength, incidentBeamPath/xRayTube),
    one scan whose dataPoints hold positions axis="2Theta" (start and end) and intensities."""
    ints = " ".join(str(int(v)) for v in COUNTS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="Completed">
  <comment><entry>fixture modelled on the XRDML 1.5 schema</entry></comment>
  <sample type="To be analyzed"><id>fixture</id><name>fixture</name></sample>
  <xrdMeasurement measurementType="Scan" status="Completed" sampleMode="Reflection">
    <usedWavelength intended="K-Alpha">
      <kAlpha1 unit="Angstrom">{CU[0]}</kAlpha1>
      <kAlpha2 unit="Angstrom">{CU[1]}</kAlpha2>
      <kBeta unit="Angstrom">1.392250</kBeta>
      <ratioKAlpha2KAlpha1>{CU[2]}</ratioKAlpha2KAlpha1>
    </usedWavelength>
    <incidentBeamPath>
      <radius unit="mm">240.00</radius>
      <xRayTube id="1" name="Cu LFF">
        <tension unit="kV">45</tension><current unit="mA">40</current><anodeMaterial>Cu</anodeMaterial>
      </xRayTube>
    </incidentBeamPath>
    <scan appendNumber="0" mode="Continuous" scanAxis="Gonio" status="Completed">
      <header><startTimeStamp>2020-01-01T00:00:00</startTimeStamp></header>
      <dataPoints>
        <positions axis="2Theta" unit="deg">
          <startPosition>{TTH[0]:.4f}</startPosition>
          <endPosition>{TTH[-1]:.4f}</endPosition>
        </positions>
        <positions axis="Omega" unit="deg">
          <startPosition>10.0000</startPosition>
          <endPosition>20.0000</endPosition>
        </positions>
        <commonCountingTime unit="seconds">1.00</commonCountingTime>
        <intensities unit="counts">{ints}</intensities>
      </dataPoints>
    </scan>
  </xrdMeasurement>
</xrdMeasurements>
""".encode()


def brml() -> bytes:
    """Bruker DIFFRAC.SUITE .brml: a zip with Experiment0/RawData0.xml, one DataRoute of Datum rows
    (time,flag,2θ,θ,counts) and the tube's WaveLength* and TubeMaterial in FixedInformation."""
    rows = "\n".join(f"      <Datum>1,1,{t:.4f},{t / 2:.4f},{int(c)}</Datum>" for t, c in zip(TTH, COUNTS))
    raw = f"""<?xml version="1.0" encoding="utf-8"?>
<RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <DataRoutes>
    <DataRoute RouteFlag="Final">
      <ScanInformation ScanName="Coupled TwoTheta/Theta" VisibleName="Coupled TwoTheta/Theta">
        <ScanMode>ContinuousScan</ScanMode>
        <ScanAxes>
          <ScanAxisInfo AxisId="TwoTheta" AxisName="TwoTheta" Unit="°">
            <Start>{TTH[0]}</Start><Stop>{TTH[-1]}</Stop><Increment>0.1</Increment>
          </ScanAxisInfo>
        </ScanAxes>
        <MeasurementPoints>{TTH.size}</MeasurementPoints>
        <TimePerStep>1</TimePerStep>
        <TimePerStepEffective>1</TimePerStepEffective>
      </ScanInformation>
{rows}
    </DataRoute>
  </DataRoutes>
  <FixedInformation>
    <Instrument>
      <PrimaryTracks>
        <TrackInfoData>
          <MountedOptics>
            <InfoData xsi:type="Tube">
              <TubeMaterial>Cu</TubeMaterial>
              <WaveLengthAlpha1 Value="{CU[0]}" Unit="Å" />
              <WaveLengthAlpha2 Value="{CU[1]}" Unit="Å" />
              <WaveLengthBeta Value="1.39222" Unit="Å" />
              <WaveLengthRatio Value="{CU[2]}" />
            </InfoData>
          </MountedOptics>
        </TrackInfoData>
      </PrimaryTracks>
    </Instrument>
  </FixedInformation>
</RawData>
"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="utf-8"?><Types />')
        z.writestr("Experiment0/DataContainer.xml", '<?xml version="1.0" encoding="utf-8"?><DataContainer />')
        z.writestr("Experiment0/RawData0.xml", raw)
    return buf.getvalue()


def bruker_raw_v3() -> bytes:
    """Bruker RAW1.01: a 712-byte file header (range count at 12, anode at 608, Kα average/Kα1/Kα2/Kβ/ratio
    as float64 at 616-648), one 304-byte range header (length, steps, θ start at +8, 2θ start at +16,
    step at +176, supplementary size at +256), then float32 counts."""
    head = bytearray(712)
    head[0:7] = b"RAW1.01"
    struct.pack_into("<II", head, 8, 1, 1)  # status done, one range
    head[16:26] = b"01/01/20  "
    head[326:333] = b"fixture"
    head[608:610] = b"Cu"
    struct.pack_into("<5d", head, 616, (2 * CU[0] + CU[1]) / 3, CU[0], CU[1], 1.39222, CU[2])
    rng = bytearray(304)
    struct.pack_into("<II2d", rng, 0, 304, TTH.size, TTH[0] / 2, TTH[0])
    struct.pack_into("<d", rng, 176, 0.1)
    struct.pack_into("<f", rng, 192, 1.0)
    struct.pack_into("<d", rng, 240, CU[0])
    struct.pack_into("<I", rng, 256, 0)
    return bytes(head) + bytes(rng) + COUNTS.astype("<f4").tobytes()


def bruker_raw_v4() -> bytes:
    """Bruker RAW4.00: a 61-byte header, a type-30 tube record (120 bytes: Kα average/Kα1/Kα2/Kβ/ratio as
    float64 at +72..+104, anode at +116), a type-10 text record, then a range: type 0, scan type at +32,
    start at +72, step at +80, steps at +88, 4 bytes per point at +136, sub-records' size at +140, one
    type-50 "2Theta" axis record (64 bytes, start at +56), then float32 counts."""
    head = bytearray(61)
    head[0:7] = b"RAW4.00"
    head[12:22] = b"2020-01-01"
    tube = bytearray(120)
    struct.pack_into("<II", tube, 0, 30, 120)
    struct.pack_into("<5d", tube, 72, (2 * CU[0] + CU[1]) / 3, CU[0], CU[1], 1.39222, CU[2])
    tube[116:118] = b"Cu"
    note = bytearray(36 + 8)
    struct.pack_into("<II", note, 0, 10, len(note))
    note[12:18] = b"Sample"
    note[36:43] = b"fixture"
    axis = bytearray(64)
    struct.pack_into("<II", axis, 0, 50, 64)
    axis[12:18] = b"2Theta"
    struct.pack_into("<d", axis, 56, TTH[0])
    rng = bytearray(160)
    struct.pack_into("<I", rng, 0, 0)
    rng[32:46] = b"Locked Coupled"
    struct.pack_into("<2dIf", rng, 72, TTH[0] / 2, 0.1, TTH.size, 1.0)  # the driving axis (θ) starts at +72
    struct.pack_into("<d", rng, 112, CU[0])
    struct.pack_into("<II", rng, 136, 4, len(axis))
    return bytes(head) + bytes(tube) + bytes(note) + bytes(rng) + bytes(axis) + COUNTS.astype("<f4").tobytes()


def ras() -> bytes:
    """Rigaku RAS: *RAS_DATA_START, a header of *KEY "value" lines, *RAS_INT_START, rows of angle, counts and
    attenuator factor, *RAS_INT_END, *RAS_DATA_END; CRLF line ends, Latin-1 (SmartLab writes Shift-JIS)."""
    head = [
        "*RAS_DATA_START",
        "*RAS_HEADER_START",
        '*FILE_COMMENT "fixture, Å"',
        '*FILE_SAMPLE "fixture"',
        '*HW_XG_TARGET_NAME "Cu"',
        f'*HW_XG_WAVE_LENGTH_ALPHA1 "{CU[0]}"',
        f'*HW_XG_WAVE_LENGTH_ALPHA2 "{CU[1]}"',
        '*HW_XG_WAVE_LENGTH_BETA "1.392250"',
        '*MEAS_DATA_COUNT "201"',
        '*MEAS_SCAN_AXIS_X "TwoThetaTheta"',
        '*MEAS_SCAN_AXIS_X_INTERNAL "TwoThetaTheta"',
        f'*MEAS_SCAN_START "{TTH[0]:.4f}"',
        '*MEAS_SCAN_STEP "0.1000"',
        f'*MEAS_SCAN_STOP "{TTH[-1]:.4f}"',
        '*MEAS_SCAN_UNIT_X "deg"',
        '*MEAS_SCAN_UNIT_Y "counts"',
        "*RAS_HEADER_END",
        "*RAS_INT_START",
    ]
    # The strongest points were measured through an attenuator of factor 2 (its counts halved).
    att = np.where(COUNTS > 900, 2.0, 1.0)
    rows = [f"{t:.4f} {c / a:.4f} {a:.4f}" for t, c, a in zip(TTH, COUNTS, att)]
    return "\r\n".join([*head, *rows, "*RAS_INT_END", "*RAS_DATA_END", ""]).encode("latin-1")


def rasx() -> bytes:
    """Rigaku RASX: a zip with Data0/Profile0.txt (a byte-order mark, tab-separated angle, counts,
    attenuator factor) and Data0/MesurementConditions0.xml (sic) with XrayGenerator and ScanInformation."""
    profile = "\ufeff" + "".join(f"{t:.4f}\t{c:.0f}\t1\r\n" for t, c in zip(TTH, COUNTS))
    cond = f"""<?xml version="1.0" encoding="utf-8"?>
<MeasurementConditions xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Version="1.4">
  <GeneralInformation><SampleName>fixture</SampleName><Comment /></GeneralInformation>
  <HWConfigurations>
    <XrayGenerator>
      <TargetName>Cu</TargetName><WaveType>Ka</WaveType>
      <WavelengthKalpha1>{CU[0]}</WavelengthKalpha1>
      <WavelengthKalpha2>{CU[1]}</WavelengthKalpha2>
      <WavelengthKbeta>1.392250</WavelengthKbeta>
    </XrayGenerator>
  </HWConfigurations>
  <ScanInformation>
    <AxisName>TwoThetaTheta</AxisName><Mode>CONTINUOUS</Mode>
    <Start>{TTH[0]}</Start><End>{TTH[-1]}</End><Step>0.1</Step><Unit>deg</Unit>
  </ScanInformation>
</MeasurementConditions>
"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("root.xml", '<?xml version="1.0" encoding="utf-8"?><Root />')
        z.writestr("Data0/Profile0.txt", profile.encode("utf-8"))
        z.writestr("Data0/MesurementConditions0.xml", cond)
    return buf.getvalue()


def gsas_fxye() -> bytes:
    """GSAS FXYE: a title line, an instrument-parameter line, BANK 1 n n CONS start step 0 0 FXYE (centidegrees),
    then rows 2θ (centidegrees), intensity, error."""
    lines = [
        "fixture pattern (GSAS FXYE)",
        "Instrument parameter      fixture.prm",
        f"BANK 1 {TTH.size} {TTH.size} CONS {TTH[0] * 100:.1f} 10.0 0 0 FXYE",
    ]
    lines += [f"{t * 100:.2f} {c:.4f} {np.sqrt(c):.4f}" for t, c in zip(TTH, COUNTS)]
    return ("\r\n".join(lines) + "\r\n").encode()


def gsas_esd() -> bytes:
    """GSAS ESD: BANK 1 n records CONS start step 0 0 ESD, then five (intensity, error) pairs of 8-character
    fields per 80-character line."""
    recs = -(-TTH.size // 5)
    lines = ["fixture pattern (GSAS ESD)", f"BANK 1 {TTH.size} {recs} CONS {TTH[0] * 100:.1f} 10.0 0 0 ESD"]
    for k in range(0, TTH.size, 5):
        lines.append("".join(f"{c:8.1f}{np.sqrt(c):8.2f}" for c in COUNTS[k : k + 5]).ljust(80))
    return ("\n".join(lines) + "\n").encode()


def gsas_std() -> bytes:
    """GSAS STD (the default type): BANK 1 n records CONS start step 0 0 STD, then ten 8-character fields per
    line, each a 2-character count of summed readings and a 6-character intensity."""
    recs = -(-TTH.size // 10)
    lines = ["fixture pattern (GSAS STD)", f"BANK 1 {TTH.size} {recs} CONS {TTH[0] * 100:.1f} 10.0 0 0 STD"]
    for k in range(0, TTH.size, 10):
        lines.append("".join(f" 1{c:6.0f}" for c in COUNTS[k : k + 10]).ljust(80))
    return ("\n".join(lines) + "\n").encode()


def nexus(path: Path) -> None:
    """A pyFAI-style NeXus file: entry_0000 (NXentry, default="integrate/results") with an NXdata "results"
    whose signal I runs over the axis 2th_deg (units "deg"), and the beam's wavelength in an NXmonochromator
    (units "angstrom")."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["default"] = "entry_0000"
        e = f.create_group("entry_0000")
        e.attrs["NX_class"] = "NXentry"
        e.attrs["default"] = "integrate/results"
        proc = e.create_group("integrate")
        proc.attrs["NX_class"] = "NXprocess"
        res = proc.create_group("results")
        res.attrs["NX_class"] = "NXdata"
        res.attrs["signal"] = "I"
        res.attrs["axes"] = "2th_deg"
        res.create_dataset("I", data=COUNTS.astype(np.float32))
        ax = res.create_dataset("2th_deg", data=TTH.astype(np.float32))
        ax.attrs["units"] = "deg"
        mono = e.create_group("instrument").create_group("monochromator")
        mono.attrs["NX_class"] = "NXmonochromator"
        w = mono.create_dataset("wavelength", data=0.7293)
        w.attrs["units"] = "angstrom"


def main() -> None:
    for name, make in (
        ("fixture.xrdml", xrdml),
        ("fixture.brml", brml),
        ("fixture_v3.raw", bruker_raw_v3),
        ("fixture_v4.raw", bruker_raw_v4),
        ("fixture.ras", ras),
        ("fixture.rasx", rasx),
        ("fixture.fxye", gsas_fxye),
        ("fixture_esd.gsa", gsas_esd),
        ("fixture_std.gsa", gsas_std),
    ):
        (HERE / name).write_bytes(make())
    nexus(HERE / "fixture.nxs")


if __name__ == "__main__":
    main()
